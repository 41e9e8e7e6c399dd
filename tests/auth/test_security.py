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
from backend.auth.throttle import Limits, LoginThrottle, MemoryStore
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
    def _throttle(self, now: list[float], **limits: float) -> LoginThrottle:
        return LoginThrottle(MemoryStore(), 900, Limits(**limits), clock=lambda: now[0])  # type: ignore[arg-type]

    def test_backs_off_exponentially_after_the_free_failures(self) -> None:
        now = [1000.0]
        throttle = self._throttle(now, per_user_address=3)
        for _ in range(3):
            assert throttle.retry_after("Alice", "10.0.0.1") == 0
            throttle.record_failure("alice", "10.0.0.1")
        assert throttle.retry_after("alice", "10.0.0.1") == 0  # three free failures
        waits = []
        for _ in range(4):
            throttle.record_failure("ALICE", "10.0.0.1")
            waits.append(throttle.retry_after("alice", "10.0.0.1"))
            now[0] += waits[-1]
        assert waits == [1, 2, 4, 8]

    def test_one_address_cannot_lock_the_user_out_of_another(self) -> None:
        now = [1000.0]
        throttle = self._throttle(now)
        for _ in range(12):  # an attacker's wrong passwords for alice
            throttle.record_failure("alice", "203.0.113.9")
        assert throttle.retry_after("alice", "203.0.113.9") > 0
        assert throttle.retry_after("alice", "10.0.0.1") == 0  # alice herself is not locked

    def test_many_addresses_on_one_user_wait_at_most_a_minute(self) -> None:
        now = [1000.0]
        throttle = self._throttle(now, per_user=5)
        for n in range(40):
            throttle.record_failure("alice", f"198.51.100.{n}")
        assert 0 < throttle.retry_after("alice", "10.0.0.1") <= 60

    def test_one_address_trying_many_users_is_slowed(self) -> None:
        now = [1000.0]
        throttle = self._throttle(now, per_address=5)
        for n in range(8):
            throttle.record_failure(f"user{n}", "203.0.113.9")
        assert throttle.retry_after("someone-else", "203.0.113.9") > 0

    def test_success_clears_the_users_keys_but_not_the_addresss(self) -> None:
        now = [1000.0]
        throttle = self._throttle(now, per_user_address=1, per_address=2)
        for _ in range(3):
            throttle.record_failure("bob", "10.0.0.2")
        throttle.record_success("bob", "10.0.0.2")
        assert throttle.retry_after("bob", "10.0.0.3") == 0
        assert throttle.retry_after("carol", "10.0.0.2") > 0

    def test_records_are_forgotten_after_the_window(self) -> None:
        now = [1000.0]
        throttle = self._throttle(now, per_user_address=1)
        for _ in range(5):
            throttle.record_failure("bob", "10.0.0.2")
        now[0] += 901
        assert throttle.retry_after("bob", "10.0.0.2") == 0
        throttle.record_failure("bob", "10.0.0.2")  # counts from one again
        assert throttle.retry_after("bob", "10.0.0.2") == 0

    def test_the_store_is_bounded(self) -> None:
        store = MemoryStore(max_keys=100)
        throttle = LoginThrottle(store, 900)
        for n in range(1000):
            throttle.record_failure(f"user-{n}-" + "x" * 10_000, f"10.0.{n // 250}.{n % 250}")
        assert len(store) == 100
        assert all(len(key) < 200 for key in store._records)  # usernames cut to 64 characters


class TestGeneratedSecret:
    def test_created_once_with_owner_only_permissions(self, tmp_path: Path) -> None:
        path = tmp_path / "data" / "secret_key"
        first = load_or_create_secret(path)
        assert len(first) >= 64
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert load_or_create_secret(path) == first
