"""Settings: one TOML file found by one function, overridden by the environment."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import platformdirs

APP_NAME = "seat"
DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class Settings:
    database_url: str = ""
    region: str = "CN"
    company: str = "Seat Home Service"
    local_timezone: str = "Asia/Shanghai"
    scripts_dir: Path = field(default=DATA_DIR / "scripts")
    policy_dir: Path = field(default=DATA_DIR / "policy")
    drafts_base: Path | None = None  # default: <user data dir>/drafts
    refresh_seconds: float = 3.0
    pop_poll_seconds: float = 0.5
    heartbeat_seconds: float = 5.0
    schedule_on_start: bool = True  # run the callback rules when a seat opens

    def with_database(self, url: str) -> Settings:
        return replace(self, database_url=url)

    @property
    def scripts_cache(self) -> Path:
        """Last good copies of the call scripts, used when an edited script is broken."""
        return (self.drafts_base or user_data_dir() / "drafts").parent / "scripts-good"

    @property
    def drafts_dir(self) -> Path:
        from seat.drafts import drafts_dir

        return drafts_dir(self.drafts_base or user_data_dir() / "drafts", self.database_url)


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_path() -> Path:
    env = os.environ.get("SEAT_CONFIG")
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def default_database_url() -> str:
    return sqlite_url(user_data_dir() / "seat.db")


def demo_database_url() -> str:
    return sqlite_url(user_data_dir() / "demo.db")


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path).expanduser().resolve()}"


def to_database_url(value: str) -> str:
    """`--db` takes a file path or a SQLAlchemy URL."""
    if "://" in value:
        return value
    return sqlite_url(value)


def load_settings(path: Path | None = None) -> Settings:
    """Read the config file (if any), then let SEAT_* environment variables win."""
    path = path or config_path()
    values: dict[str, object] = {}
    if path.is_file():
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        for key in ("database_url", "region", "company", "local_timezone"):
            if key in raw:
                values[key] = str(raw[key])
        for key in ("scripts_dir", "policy_dir"):
            if key in raw:
                values[key] = Path(str(raw[key])).expanduser()
        for key in ("refresh_seconds", "pop_poll_seconds", "heartbeat_seconds"):
            if key in raw:
                values[key] = float(raw[key])
    env = os.environ
    if env.get("SEAT_DATABASE_URL"):
        values["database_url"] = to_database_url(env["SEAT_DATABASE_URL"])
    if env.get("SEAT_DRAFTS_DIR"):
        values["drafts_base"] = Path(env["SEAT_DRAFTS_DIR"])
    if env.get("SEAT_REGION"):
        values["region"] = env["SEAT_REGION"].upper()
    settings = Settings(**values)  # type: ignore[arg-type]
    if not settings.database_url:
        settings = settings.with_database(default_database_url())
    return settings


def policy_file(settings: Settings, name: str) -> Path:
    """A policy TOML: the deployment's copy in the config directory wins over the shipped one."""
    override = config_path().parent / "policy" / f"{name}.toml"
    if override.is_file():
        return override
    return settings.policy_dir / f"{name}.toml"
