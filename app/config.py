"""Settings from the environment, read once; every command and the server share them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'app.db'}"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: os.environ.get("DATABASE_URL") or _default_database_url())
    environment: str = field(default_factory=lambda: os.environ.get("APP_ENV", "development"))
    token_ttl_minutes: int = field(default_factory=lambda: _int("TOKEN_TTL_MINUTES", 8 * 60))
    # "in-process": the API process also fires due timers (the single-machine default of `make run`);
    # "off": run `python -m app worker` processes instead (several API workers, PostgreSQL).
    timer_worker: str = field(default_factory=lambda: os.environ.get("TIMER_WORKER", "off"))
    timer_poll_seconds: float = field(default_factory=lambda: float(os.environ.get("TIMER_POLL_SECONDS", "1")))
    auth_cache_seconds: int = field(default_factory=lambda: _int("AUTH_CACHE_SECONDS", 30))
    max_body_bytes: int = field(default_factory=lambda: _int("MAX_BODY_BYTES", 1024 * 1024))
    max_upload_bytes: int = field(default_factory=lambda: _int("MAX_UPLOAD_BYTES", 2 * 1024 * 1024))
    bpmn_dir: Path = field(default_factory=lambda: Path(os.environ.get("BPMN_DIR", PROJECT_ROOT / "bpmn")))
    # The web pages' cookies get the Secure flag when the request is HTTPS; behind a proxy that ends
    # TLS, set TRUST_FORWARDED_PROTO=true so that its X-Forwarded-Proto: https counts as well.
    trust_forwarded_proto: bool = field(
        default_factory=lambda: os.environ.get("TRUST_FORWARDED_PROTO", "").lower() in ("1", "true", "yes")
    )
    # Issue 6: the file holding the key that signs audit anchors (HMAC-SHA256); unset: anchors are
    # hashed but unsigned. AUDIT_ANCHOR_KEY (the key itself) is read when no file is named.
    audit_anchor_key_file: str | None = field(default_factory=lambda: os.environ.get("AUDIT_ANCHOR_KEY_FILE") or None)
    page_size: int = 50
    max_page_size: int = 200

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


def get_settings() -> Settings:
    return Settings()
