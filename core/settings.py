"""Settings: one typed object read from the environment, and only here.

Every setting has a default that works on a laptop: ``make run`` needs no variable at all.

===================================  =============================================
variable                             meaning
===================================  =============================================
``SWITCHBOARD_DATA_DIR``             folder for the SQLite file, key file, cookie key
                                     (default ``data/``)
``DATABASE_URL``                     store URL; overrides the SQLite file
                                     (``postgresql://user:pass@host:5432/db``)
``SWITCHBOARD_SECRET_KEY``           base64 of a 32-byte AES key; else the key file
``SWITCHBOARD_ADMIN_PASSWORD``       password of the first admin (``admin``)
``SWITCHBOARD_SESSION_TIMEOUT_MINUTES``  inactivity timeout (default 30)
``SWITCHBOARD_SANDBOX_URL``          where the sandbox listens (default
                                     ``http://127.0.0.1:8765``)
``SWITCHBOARD_HTTP_TIMEOUT_SECONDS`` timeout of one outbound request (default 15)
``SWITCHBOARD_HEARTBEAT_SECONDS``    how often the worker says it is alive (default 10)
``SWITCHBOARD_WEBHOOK_HOST``         where the worker listens for webhooks (default 127.0.0.1)
``SWITCHBOARD_WEBHOOK_PORT``         its port (default 8787; 0 picks a free one)
===================================  =============================================
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigurationError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """What the app and the worker need to know about their surroundings."""

    data_dir: Path
    database_url: str
    secret_key_b64: str | None
    admin_password: str | None
    session_timeout_minutes: int
    cookie_expiry_days: float
    sandbox_url: str
    http_timeout_seconds: float
    heartbeat_seconds: int
    webhook_host: str
    webhook_port: int
    # bcrypt's cost factor for new password hashes (2^rounds iterations)
    password_hash_rounds: int = 12

    @property
    def key_file(self) -> Path:
        """The AES key file created on first start when no key is given."""
        return self.data_dir / "secret.key"

    @property
    def cookie_key_file(self) -> Path:
        """The random key that signs the login cookie."""
        return self.data_dir / "cookie.key"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _int_setting(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(
            f"{name} is {raw!r}, which is not a whole number.",
            fix=f"Set {name} to a whole number between {low} and {high}, or unset it.",
        ) from None
    if not low <= value <= high:
        raise ConfigurationError(
            f"{name} is {value}, outside {low}..{high}.",
            fix=f"Set {name} to a whole number between {low} and {high}.",
        )
    return value


def normalise_database_url(url: str) -> str:
    """Accept the URL forms people paste and turn them into one SQLAlchemy understands.

    >>> normalise_database_url("postgres://u:p@localhost/sb")
    'postgresql+psycopg://u:p@localhost/sb'
    """
    url = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith("postgresql+psycopg://"):
        return url
    if url.startswith("sqlite:///"):
        if not url.startswith("sqlite:////"):
            raise ConfigurationError(
                "DATABASE_URL names a SQLite file by a relative path, which depends on the "
                "folder Switchboard happens to start in.",
                fix="Use an absolute path (sqlite:////var/lib/switchboard/switchboard.db), "
                "or unset DATABASE_URL to use SWITCHBOARD_DATA_DIR.",
            )
        return url
    raise ConfigurationError(
        "DATABASE_URL is not a database address Switchboard can use.",
        fix="Use postgresql://USER:PASSWORD@HOST:5432/DATABASE, or sqlite:////absolute/path.db, "
        "or unset DATABASE_URL to use the SQLite file in the data directory.",
    )


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read the settings from ``env`` (default: the process environment)."""
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("SWITCHBOARD_DATA_DIR", "").strip() or PROJECT_ROOT / "data")
    data_dir = data_dir.expanduser().resolve()
    raw_url = env.get("DATABASE_URL", "").strip()
    database_url = (
        normalise_database_url(raw_url) if raw_url else f"sqlite:///{data_dir / 'switchboard.db'}"
    )
    timeout_s = env.get("SWITCHBOARD_HTTP_TIMEOUT_SECONDS", "").strip()
    try:
        http_timeout = float(timeout_s) if timeout_s else 15.0
    except ValueError:
        raise ConfigurationError(
            f"SWITCHBOARD_HTTP_TIMEOUT_SECONDS is {timeout_s!r}, not a number of seconds.",
            fix="Set it to a number such as 15, or unset it.",
        ) from None
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key_b64=env.get("SWITCHBOARD_SECRET_KEY") or None,
        admin_password=env.get("SWITCHBOARD_ADMIN_PASSWORD") or None,
        session_timeout_minutes=_int_setting(
            env, "SWITCHBOARD_SESSION_TIMEOUT_MINUTES", 30, 1, 24 * 60
        ),
        cookie_expiry_days=1.0,
        sandbox_url=(env.get("SWITCHBOARD_SANDBOX_URL") or "http://127.0.0.1:8765").rstrip("/"),
        http_timeout_seconds=http_timeout,
        heartbeat_seconds=_int_setting(env, "SWITCHBOARD_HEARTBEAT_SECONDS", 10, 1, 3600),
        webhook_host=env.get("SWITCHBOARD_WEBHOOK_HOST", "").strip() or "127.0.0.1",
        webhook_port=_int_setting(env, "SWITCHBOARD_WEBHOOK_PORT", 8787, 0, 65535),
        password_hash_rounds=_int_setting(env, "SWITCHBOARD_PASSWORD_HASH_ROUNDS", 12, 4, 16),
    )
