"""Settings: defaults, one TOML file found by one function (validated), the environment, then
command-line options; each effective value remembers where it came from."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from seat.i18n import N_, _

APP_NAME = "seat"


def shipped_data_dir() -> Path:
    """The shipped scripts and policies: the repository's data/, installed as `seat.data`.

    pyproject maps data/ to the package seat.data, so a wheel carries it inside seat/ and an
    editable install finds it in the checkout. A checkout that was never installed (run from
    the source tree) still has data/ beside seat/.
    """
    try:
        found = resources.files("seat.data")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "data"
    return Path(str(found))


DATA_DIR = shipped_data_dir()


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
    log_dir: Path | None = None  # default: the user log directory (platformdirs)
    dial_command: tuple[str, ...] = ()  # click-to-dial: argv with one "{number}" (seat.dialer)
    recording_command: tuple[str, ...] = ()  # a call's recording: argv with one "{recording}"
    # Click-to-dial through Asterisk (AMI Originate; the secret is SEAT_AMI_SECRET): the
    # customer is rung first (Local/<number>@<context>), then the agent's extension.
    ami_host: str = ""
    ami_port: int = 5038
    ami_username: str = ""
    ami_context: str = "from-internal"
    ami_ring_seconds: int = 30

    def with_database(self, url: str) -> Settings:
        return replace(self, database_url=url)

    @property
    def scripts_cache(self) -> Path:
        """Last good copies of the call scripts, used when an edited script is broken."""
        return (self.drafts_base or user_data_dir() / "drafts").parent / "scripts-good"

    @property
    def drafts_dir(self) -> Path:
        """One folder per database, so a demo desk's draft never resumes on the real one."""
        base = self.drafts_base or user_data_dir() / "drafts"
        return base / hashlib.sha1(self.database_url.encode()).hexdigest()[:12]


def user_log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_path() -> Path:
    env = os.environ.get("SEAT_CONFIG")
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def default_database_url() -> str:
    return sqlite_url(user_data_dir() / "seat.db")


DEMO_CALLERS: tuple[str, ...] = ("+8613800138000", "+8613912345678", "+8618612345678")
"""Callers a newcomer can try on the demo desk (the demo sign-in screen and the README name
them): the first customers of a fresh demo database (seat.tools.demo) have these numbers."""


def demo_database_url() -> str:
    return sqlite_url(user_data_dir() / "demo.db")


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path).expanduser().resolve()}"


def to_database_url(value: str) -> str:
    """`--db` takes a file path or a SQLAlchemy URL."""
    if "://" in value:
        return value
    return sqlite_url(value)


class ConfigError(ValueError):
    """The config file cannot be used: the message names the file, the key and what is
    expected (one line per problem)."""


class FileSettings(BaseModel):
    """What config.toml may hold: an unknown key or a value of the wrong type is an error.

    Strict: TOML has types, so `refresh_seconds = "3"` is refused rather than guessed at.
    Its validator is built when a config file is first read (defer_build), not at import."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)

    database_url: Annotated[str, Field(min_length=1)] | None = None
    region: Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")] | None = None
    company: str | None = None
    local_timezone: str | None = None
    scripts_dir: str | None = None
    policy_dir: str | None = None
    drafts_dir: str | None = None
    log_dir: str | None = None
    refresh_seconds: Annotated[float, Field(gt=0)] | None = None
    pop_poll_seconds: Annotated[float, Field(gt=0)] | None = None
    heartbeat_seconds: Annotated[float, Field(gt=0)] | None = None
    schedule_on_start: bool | None = None
    dial_command: list[str] | None = None
    recording_command: list[str] | None = None
    ami_host: Annotated[str, Field(min_length=1)] | None = None
    ami_port: Annotated[int, Field(gt=0, lt=65536)] | None = None
    ami_username: Annotated[str, Field(min_length=1)] | None = None
    ami_context: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")] | None = None
    ami_ring_seconds: Annotated[int, Field(gt=0, le=300)] | None = None

    @field_validator("dial_command", "recording_command")
    @classmethod
    def _command_template(cls, value: list[str] | None, info: Any) -> list[str] | None:
        mark = "{number}" if info.field_name == "dial_command" else "{recording}"
        if value is not None and value:
            holders = [arg for arg in value if mark in arg]
            if not value[0].strip() or len(holders) != 1 or mark in value[0]:
                raise ValueError("command template")
        return value

    @field_validator("local_timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError("unknown time zone") from None
        return value


_FILE_TO_SETTING = {"drafts_dir": "drafts_base"}
"""config.toml keys whose Settings field has another name."""

_EXPECTED = {
    "database_url": N_("a database file path or SQLAlchemy URL (text)"),
    "region": N_("a two-letter region code such as \"CN\""),
    "company": N_("text"),
    "local_timezone": N_("a time zone name such as \"Asia/Shanghai\""),
    "scripts_dir": N_("a folder path (text)"),
    "policy_dir": N_("a folder path (text)"),
    "drafts_dir": N_("a folder path (text)"),
    "log_dir": N_("a folder path (text)"),
    "refresh_seconds": N_("a number of seconds greater than 0, e.g. 3"),
    "pop_poll_seconds": N_("a number of seconds greater than 0, e.g. 0.5"),
    "heartbeat_seconds": N_("a number of seconds greater than 0, e.g. 5"),
    "schedule_on_start": N_("true or false"),
    "dial_command": N_(
        'a list: the program, then its arguments, one of them holding {number}, e.g. '
        '["microsip.exe", "{number}"]'
    ),
    "ami_host": N_("the Asterisk host (text)"),
    "ami_port": N_("a port number, e.g. 5038"),
    "ami_username": N_("the AMI user of manager.conf (text)"),
    "ami_context": N_("a dialplan context: letters, digits, - and _"),
    "ami_ring_seconds": N_("seconds from 1 to 300, e.g. 30"),
    "recording_command": N_(
        'a list: the player, then its arguments, one of them holding {recording}, e.g. '
        '["mpv", "{recording}"]'
    ),
}

SOURCE_DEFAULT = N_("default")
SOURCE_FILE = N_("file")
SOURCE_ENV = N_("environment")
SOURCE_OPTION = N_("option")


@dataclass(frozen=True)
class LoadedSettings:
    """The effective settings and where each one came from (default, file, environment,
    option): what `seat config show` prints."""

    settings: Settings
    sources: dict[str, str]
    path: Path

    def with_option(self, name: str, value: object) -> LoadedSettings:
        """A command-line option wins over everything else."""
        sources = {**self.sources, name: SOURCE_OPTION}
        return LoadedSettings(replace(self.settings, **{name: value}), sources, self.path)


def read_config_file(path: Path) -> FileSettings:
    """The validated contents of config.toml (ConfigError naming the file and the key)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            _("{file}: not valid TOML ({problem}); fix the file or move it away.").format(
                file=path, problem=exc
            )
        ) from None
    except UnicodeDecodeError:
        message = _("{file}: not UTF-8 text; save it as UTF-8.").format(file=path)
        raise ConfigError(message) from None
    except OSError as exc:
        raise ConfigError(
            _("{file}: cannot be read: {problem}").format(file=path, problem=exc.strerror)
        ) from None
    try:
        return FileSettings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError("\n".join(_describe(path, e) for e in exc.errors())) from None


def _describe(path: Path, error: Any) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "?"
    if error["type"] == "extra_forbidden":
        near = difflib.get_close_matches(key, FileSettings.model_fields, n=1)
        hint = (
            _("did you mean {key}?").format(key=near[0])
            if near
            else _("known keys: {keys}").format(keys=", ".join(FileSettings.model_fields))
        )
        return _("{file}: unknown key {key} ({hint})").format(file=path, key=key, hint=hint)
    expected = _EXPECTED.get(key)
    problem = _(expected) if expected else error["msg"]
    return _("{file}: {key} must be {expected}, not {value}").format(
        file=path, key=key, expected=problem, value=_toml_value(error["input"])
    )


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def _file_path(value: str, base: Path) -> Path:
    """A path in config.toml: `~` expanded, relative to the file's folder."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def load_config(
    path: Path | None = None, environ: Mapping[str, str] | None = None
) -> LoadedSettings:
    """Defaults, then the config file, then SEAT_* environment variables (ConfigError when the
    file is not valid); command-line options are applied by the caller (`with_option`)."""
    path = path or config_path()
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    if path.is_file():
        found = read_config_file(path)
        for key, value in found.model_dump(exclude_none=True).items():
            name = _FILE_TO_SETTING.get(key, key)
            if key.endswith("_dir"):
                value = _file_path(value, path.parent)
            elif key == "database_url":
                value = value if "://" in value else sqlite_url(_file_path(value, path.parent))
            elif key == "region":
                value = value.upper()
            elif key in ("dial_command", "recording_command"):
                value = tuple(value)
            values[name] = value
            sources[name] = SOURCE_FILE
    for var, name, convert in _ENVIRONMENT:
        if env.get(var):
            values[name] = convert(env[var])
            sources[name] = SOURCE_ENV
    settings = Settings(**values)  # type: ignore[arg-type]
    if not settings.database_url:
        settings = settings.with_database(default_database_url())
    for f in fields(Settings):
        sources.setdefault(f.name, SOURCE_DEFAULT)
    return LoadedSettings(settings, sources, path)


_ENVIRONMENT: tuple[tuple[str, str, Callable[[str], object]], ...] = (
    ("SEAT_DATABASE_URL", "database_url", to_database_url),
    ("SEAT_DRAFTS_DIR", "drafts_base", Path),
    ("SEAT_LOG_DIR", "log_dir", Path),
    ("SEAT_REGION", "region", str.upper),
)


def load_settings(path: Path | None = None) -> Settings:
    """Read the config file (if any), then let SEAT_* environment variables win."""
    return load_config(path).settings


def policy_file(settings: Settings, name: str) -> Path:
    """A policy TOML: the deployment's copy in the config directory wins over the shipped one.

    Asked on every sidebar read (twice): the two candidate paths are worked out once per
    environment they depend on (_policy_paths); whether the deployment's copy exists is
    looked up every time, so one added or removed while seats run is seen at once."""
    environ = os.environ
    if sys.platform.startswith("linux"):
        override, shipped = _policy_paths(
            environ.get("SEAT_CONFIG"), environ.get("XDG_CONFIG_HOME"), environ.get("HOME"),
            os.geteuid(), settings.policy_dir, name,
        )  # fmt: skip
    else:  # platformdirs reads more than those there (registry, overrides): asked each time
        override = config_path().parent / "policy" / f"{name}.toml"
        shipped = settings.policy_dir / f"{name}.toml"
    if override.is_file():
        return override
    return shipped


@lru_cache(maxsize=64)
def _policy_paths(
    seat_config: str | None, _xdg_config_home: str | None, _home: str | None, _euid: int,
    policy_dir: Path, name: str,
) -> tuple[Path, Path]:
    """The deployment's copy of policy `name` (beside the config file, config_path) and the
    shipped one; cached on what config_path reads on Linux (SEAT_CONFIG, and platformdirs'
    XDG_CONFIG_HOME, HOME and the user), passed in as the key."""
    base = Path(seat_config) if seat_config else config_path()
    return base.parent / "policy" / f"{name}.toml", policy_dir / f"{name}.toml"
