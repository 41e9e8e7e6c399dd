"""The pure parts: signatures, back-off and the SSRF address rules (no database)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from backend.webhooks import signing
from backend.webhooks.addresses import Policy, RefusedAddress, check
from backend.webhooks.secrets import SecretBox, SecretUnavailable
from backend.webhooks.sender import backoff_seconds

STRICT = Policy()


def resolver(*addresses: str):  # type: ignore[no-untyped-def]
    def resolve(_host: str, _port: int) -> list[str]:
        return list(addresses)

    return resolve


class TestSignature:
    def test_an_independent_hmac_over_timestamp_dot_body_matches(self) -> None:
        body = b'{"id":"evt_1","type":"run.ended","data":{"run_id":7}}'
        secret = "whsec_known-secret-for-the-test"
        expected = hmac.new(secret.encode(), b"1733300000." + body, hashlib.sha256).hexdigest()
        assert signing.signature(secret, 1733300000, body) == f"v1={expected}"
        headers = signing.headers(secret, "dlv_9", "run.ended", 1733300000, body)
        assert headers == {
            "Fillbook-Webhook-Id": "dlv_9",
            "Fillbook-Webhook-Timestamp": "1733300000",
            "Fillbook-Webhook-Signature": f"v1={expected}",
            "Fillbook-Webhook-Event": "run.ended",
        }

    def test_another_body_or_timestamp_gives_another_signature(self) -> None:
        one = signing.signature("whsec_x", 1, b"{}")
        assert signing.signature("whsec_x", 2, b"{}") != one
        assert signing.signature("whsec_x", 1, b"{ }") != one
        assert signing.signature("whsec_y", 1, b"{}") != one

    def test_a_new_secret_and_its_hint(self) -> None:
        secret = signing.new_secret()
        assert secret.startswith("whsec_")
        assert len(secret) == 6 + 43
        assert signing.hint(secret) == secret[:10]


class TestSecretBox:
    def test_sealed_secrets_open_with_the_same_key_only(self) -> None:
        box = SecretBox("server-key-one-that-is-long-enough-0123456789")
        sealed = box.seal("whsec_abc")
        assert "whsec_abc" not in sealed
        assert sealed.startswith("v1:")
        assert box.open(sealed) == "whsec_abc"
        with pytest.raises(SecretUnavailable, match="another SECRET_KEY: rotate the secret"):
            SecretBox("another-server-key-long-enough-0123456789").open(sealed)


class TestBackoff:
    def test_equal_jitter_doubles_within_half_and_whole_of_the_ceiling(self) -> None:
        assert backoff_seconds(1, 30, 3600, rand=lambda: 0.0) == 15.0
        assert backoff_seconds(1, 30, 3600, rand=lambda: 1.0) == 30.0
        assert backoff_seconds(3, 30, 3600, rand=lambda: 0.5) == 90.0  # 120/2 + 0.5*60
        assert backoff_seconds(20, 30, 3600, rand=lambda: 1.0) == 3600.0  # capped
        with pytest.raises(ValueError, match="attempts must be >= 1, got 0"):
            backoff_seconds(0, 30, 3600)


class TestAddresses:
    @pytest.mark.parametrize(
        ("url", "why"),
        [
            ("https://127.0.0.1/h", "127.0.0.1 is a loopback address"),
            ("https://10.1.2.3/h", "10.1.2.3 is a private address"),
            ("https://192.168.0.10/h", "192.168.0.10 is a private address"),
            ("https://172.16.5.4/h", "172.16.5.4 is a private address"),
            ("https://169.254.169.254/latest", "169.254.169.254 is a link-local address"),
            ("https://100.64.0.1/h", "100.64.0.1 is not a public address"),
            ("https://224.0.0.1/h", "224.0.0.1 is a multicast address"),
            ("https://0.0.0.0/h", "0.0.0.0 is the unspecified address"),
            ("https://[::1]/h", "::1 is a loopback address"),
            ("https://[fe80::1]/h", "fe80::1 is a link-local address"),
            ("https://[fc00::5]/h", "fc00::5 is a private address"),
            ("https://[ff02::1]/h", "ff02::1 is a multicast address"),
            ("https://[::ffff:127.0.0.1]/h",
             "127.0.0.1 is a loopback address (inside the IPv6 address ::ffff:7f00:1)"),
            ("https://[::ffff:10.0.0.1]/h",
             "10.0.0.1 is a private address (inside the IPv6 address ::ffff:a00:1)"),
            ("https://[2002:a9fe:a9fe::1]/h",
             "169.254.169.254 is a link-local address (inside the IPv6 address 2002:a9fe:a9fe::1)"),
        ],
    )  # fmt: skip
    def test_non_public_addresses_are_refused(self, url: str, why: str) -> None:
        with pytest.raises(RefusedAddress) as refused:
            check(url, STRICT, resolver())
        host = url.split("//")[1].split("/")[0].strip("[]")
        assert str(refused.value) == (
            f"webhooks are not sent to {host}: {why}; an admin may allow it with "
            "WEBHOOK_ALLOW_PRIVATE=1 or WEBHOOK_ALLOWED_HOSTS"
        )

    def test_a_name_is_judged_by_every_address_it_resolves_to(self) -> None:
        target = check("https://hooks.example.com/in?x=1", STRICT, resolver("93.184.216.34"))
        assert (target.host, target.port, target.path, target.address) == (
            "hooks.example.com", 443, "/in?x=1", "93.184.216.34")  # fmt: skip
        with pytest.raises(RefusedAddress, match="10.0.0.7 is a private address"):
            check("https://mixed.example.com/", STRICT, resolver("93.184.216.34", "10.0.0.7"))
        with pytest.raises(RefusedAddress, match="::1 is a loopback address"):
            check("https://v6.example.com/", STRICT, resolver("::1"))

    def test_https_only_without_the_allowance(self) -> None:
        with pytest.raises(RefusedAddress, match="url must use https, got http://example.com"):
            check("http://example.com/h", STRICT, resolver("93.184.216.34"))
        with pytest.raises(RefusedAddress, match="url must start with https://"):
            check("ftp://example.com/h", STRICT, resolver("93.184.216.34"))
        with pytest.raises(RefusedAddress, match="must not carry a user name or password"):
            check("https://u:p@example.com/h", STRICT, resolver("93.184.216.34"))

    def test_the_admin_allowance_opens_http_and_private_targets(self) -> None:
        target = check("http://127.0.0.1:8123/h", Policy(allow_private=True), resolver())
        assert (target.scheme, target.address, target.port) == ("http", "127.0.0.1", 8123)
        listed = Policy(allowed_hosts=frozenset({"ci-receiver"}))
        assert check("http://ci-receiver/h", listed, resolver("10.0.0.9")).address == "10.0.0.9"
        with pytest.raises(RefusedAddress, match="10.0.0.9 is a private address"):
            check("https://other/h", listed, resolver("10.0.0.9"))
