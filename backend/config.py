"""Settings read from the environment (and an optional `.env` file).

No secret has a built-in default: when `SECRET_KEY` is unset, a random key is
generated on first start and kept in the data directory, readable by its owner
only, so tokens survive restarts without anyone choosing a weak key.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY_FILE = "secret_key"
MIN_SECRET_CHARS = {"secret_key": 32, "metrics_token": 16, "training_node_token": 16}


class Settings(BaseSettings):
    """Every knob of the backend; names are the environment variables, upper-cased."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    data_dir: Path = PROJECT_ROOT / "data"
    database_url: str = ""
    secret_key: SecretStr | None = None
    access_token_minutes: int = Field(default=60, gt=0)
    cors_origins: Annotated[list[str], NoDecode] = []
    # Host headers the app answers (DNS rebinding); run_server adds the host it binds to.
    allowed_hosts: Annotated[list[str], NoDecode] = ["localhost", "127.0.0.1"]
    # How this service's own workers (backtests) reach it: never from a request's Host
    # header. run_server sets it to the address it listens on (loopback by default).
    internal_url: str = "http://127.0.0.1:8000"
    training_node_url: str = "http://127.0.0.1:8001"
    training_node_token: SecretStr | None = None
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    # Failed logins of one username from one address before each further one waits twice
    # as long (backend/auth/throttle.py); a record is forgotten this long after its last one.
    login_max_failures: int = Field(default=5, gt=0)
    login_window_seconds: int = Field(default=900, gt=0)
    # Who may register: anyone, nobody, or only the first user of an empty database.
    registration: Literal["open", "closed", "first-user-only"] = "open"
    registrations_per_hour: int = Field(default=10, gt=0)  # per client address
    # Shared work one user may have going at once; past it, 429 (docs/operations.md).
    max_backtests_per_user: int = Field(default=2, gt=0)  # queued or running
    max_training_jobs_per_user: int = Field(default=2, gt=0)  # not yet finished
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    # Cap the SQLite file at this many pages (4 KiB each): past it, writes answer 507.
    sqlite_max_page_count: int | None = Field(default=None, gt=0)
    log_format: Literal["text", "json"] = "text"
    # Re-derive trades after ingest in a worker process (the other core) rather than a
    # thread sharing the API process's GIL (docs/ingest.md, "What happens after a commit").
    derivation_process: bool = True
    # On SQLite, store ingest batches in a writer process of its own rather than a thread
    # sharing the API process's GIL with validation (backend/ingest/writer_process.py).
    writer_process: bool = True
    # A scraper's bearer secret for GET /metrics (an ADMIN's access token works too).
    metrics_token: SecretStr | None = None
    # Outbound webhooks (docs/webhooks.md). By default only https to public addresses;
    # WEBHOOK_ALLOW_PRIVATE=1 allows http and private/loopback targets (tests, self-hosting),
    # WEBHOOK_ALLOWED_HOSTS=a,b allows them for those hosts only.
    webhook_allow_private: bool = False
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = []
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)  # per attempt
    webhook_max_attempts: int = Field(default=8, ge=1, le=20)
    webhook_retry_base_seconds: float = Field(default=30.0, gt=0)  # doubled each attempt
    webhook_retry_cap_seconds: float = Field(default=3600.0, gt=0)
    # An endpoint is disabled once this many deliveries in a row have failed for good.
    webhook_disable_after: int = Field(default=5, ge=1)
    webhook_poll_seconds: float = Field(default=2.0, gt=0)
    webhook_retention_days: int = Field(default=30, ge=1)

    @field_validator("cors_origins", "allowed_hosts", "webhook_allowed_hosts", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("secret_key", "metrics_token", "training_node_token")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """A secret that is set must be worth the name: unset it to get a generated one."""
        if value is None:
            return None
        least = MIN_SECRET_CHARS[info.field_name or ""]
        length = len(value.get_secret_value().strip())
        if length < least:
            name = (info.field_name or "").upper()
            raise ValueError(
                f"{name} is {'empty' if length == 0 else f'{length} characters'}; it must be at "
                f"least {least} random characters (e.g. python -c 'import secrets; "
                f"print(secrets.token_urlsafe(48))'), or unset"
                + (" to have one generated and kept in the data directory"
                   if name != "METRICS_TOKEN" else " to scrape with an ADMIN's token")
            )  # fmt: skip
        return value

    @property
    def resolved_database_url(self) -> str:
        """`DATABASE_URL`, or the embedded SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'fillbook.db'}"

    def signing_key(self) -> str:
        """The JWT signing key: `SECRET_KEY`, else the generated one in the data directory."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return load_or_create_secret(self.data_dir / SECRET_KEY_FILE)


def load_or_create_secret(path: Path) -> str:
    """Read a secret from `path`, creating it (mode 0600) with 64 random bytes if absent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text().strip()
        if len(secret) < 32:
            raise RuntimeError(
                f"{path} holds a key shorter than 32 characters; remove it"
            ) from None
        return secret
    secret = secrets.token_urlsafe(64)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
