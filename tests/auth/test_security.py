from __future__ import annotations

import base64
import datetime as dt
import json
import os
import stat
from pathlib import Path

import pytest

from backend.auth.security import (
    InvalidToken,
    PasswordHasher,
    TokenCodec,
    hash_api_key,
    looks_like_api_key,
    new_api_key,
)
from backend.auth.throttle import LoginThrottle
from backend.config import load_or_create_secret

KEY = "k" * 64
HOUR = dt.timedelta(hours=1)


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class TestTokenCodec:
    def test_round_trip(self) -> None:
        codec = TokenCodec(KEY, HOUR)
        assert codec.decode(codec.encode(42)) == 42

    def test_expired_token_is_rejected(self) -> None:
        codec = TokenCodec(KEY, HOUR)
        token = codec.encode(42, now=dt.datetime.now(dt.UTC) - 2 * HOUR)
        with pytest.raises(InvalidToken, match="expired"):
            codec.decode(token)

    def test_wrong_key_is_rejected(self) -> None:
        token = TokenCodec("x" * 64, HOUR).encode(42)
        with pytest.raises(InvalidToken):
            TokenCodec(KEY, HOUR).decode(token)

    def test_tampered_payload_is_rejected(self) -> None:
        codec = TokenCodec(KEY, HOUR)
        header, _payload, signature = codec.encode(42).split(".")
        forged = _b64({"sub": "1", "exp": 9999999999, "typ": "access"})
        with pytest.raises(InvalidToken):
            codec.decode(f"{header}.{forged}.{signature}")

    def test_alg_none_is_rejected(self) -> None:
        header = _b64({"alg": "none", "typ": "JWT"})
        payload = _b64({"sub": "42", "exp": 9999999999, "typ": "access"})
        with pytest.raises(InvalidToken):
            TokenCodec(KEY, HOUR).decode(f"{header}.{payload}.")

    def test_token_without_expiry_is_rejected(self) -> None:
        from jose import jwt

        token = jwt.encode({"sub": "42", "typ": "access"}, KEY, algorithm="HS256")
        with pytest.raises(InvalidToken):
            TokenCodec(KEY, HOUR).decode(token)


class TestPasswordHasher:
    def test_hash_is_bcrypt_and_verifies(self) -> None:
        hasher = PasswordHasher(rounds=4)
        hashed = hasher.hash("correct horse")
        assert hashed.startswith("$2b$04$")
        assert "correct horse" not in hashed
        assert hasher.verify("correct horse", hashed)
        assert not hasher.verify("wrong horse", hashed)

    def test_unknown_user_never_verifies(self) -> None:
        assert not PasswordHasher(rounds=4).verify("anything", None)


class TestApiKeys:
    def test_keys_are_random_prefixed_and_hashed(self) -> None:
        key, prefix = new_api_key()
        other, _ = new_api_key()
        assert key != other
        assert looks_like_api_key(key)
        assert key.startswith(prefix)
        assert len(hash_api_key(key)) == 64
        assert hash_api_key(key) != hash_api_key(other)


class TestLoginThrottle:
    def test_blocks_after_max_failures_until_window_passes(self) -> None:
        now = [1000.0]
        throttle = LoginThrottle(3, 60, clock=lambda: now[0])
        for _ in range(3):
            assert throttle.retry_after("Alice") == 0
            throttle.record_failure("alice")
        assert throttle.retry_after("alice") == 60
        now[0] += 59.5
        assert throttle.retry_after("ALICE") == 1
        now[0] += 1
        assert throttle.retry_after("alice") == 0

    def test_success_clears_failures(self) -> None:
        throttle = LoginThrottle(2, 60)
        throttle.record_failure("bob")
        throttle.record_success("bob")
        throttle.record_failure("bob")
        assert throttle.retry_after("bob") == 0


class TestGeneratedSecret:
    def test_created_once_with_owner_only_permissions(self, tmp_path: Path) -> None:
        path = tmp_path / "data" / "secret_key"
        first = load_or_create_secret(path)
        assert len(first) >= 64
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert load_or_create_secret(path) == first
