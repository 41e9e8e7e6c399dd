"""Signing secrets at rest: sealed with AES-256-GCM under a key derived from SECRET_KEY.

A webhook secret must be read back in clear to sign with, so unlike an API key it cannot
be stored as a hash. The sealing key is HKDF-SHA256 of the server's signing key (SECRET_KEY,
or the generated one in the data directory), so a copy of the database alone does not give
the secrets away; a server with another SECRET_KEY cannot open them (deliveries then fail
saying so, and rotating the secret mends it).
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"fillbook webhook signing secret v1"
_PREFIX = "v1:"


class SecretUnavailable(Exception):
    pass


class SecretBox:
    def __init__(self, server_key: str) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO)
        self._aead = AESGCM(derived.derive(server_key.encode("utf-8")))

    def seal(self, secret: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret.encode("utf-8"), _INFO)
        return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, sealed: str) -> str:
        if not sealed.startswith(_PREFIX):
            raise SecretUnavailable("the stored secret is in an unknown format: rotate it")
        raw = base64.urlsafe_b64decode(sealed[len(_PREFIX) :])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], _INFO).decode("utf-8")
        except InvalidTag:
            raise SecretUnavailable(
                "the endpoint's secret was sealed under another SECRET_KEY: rotate the secret"
            ) from None
