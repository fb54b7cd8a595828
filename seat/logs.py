"""The seat's log file: a rotating file in the user log directory, readable by its owner only.

Whoever supports the floor finds there what a person only saw as a short message: the
traceback of every unexpected error. `SEAT_LOG_DIR` or `log_dir` in config.toml moves it.
"""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

from seat.config import Settings, user_log_dir

LOG_NAME = "seat.log"
MAX_BYTES = 1_000_000
BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s [pid %(process)d] %(message)s"

log = logging.getLogger("seat")
_handler: RotatingFileHandler | None = None


def log_dir(settings: Settings) -> Path:
    return settings.log_dir or user_log_dir()


def log_path(settings: Settings) -> Path:
    return log_dir(settings) / LOG_NAME


def _private(path: Path) -> None:
    """Create the file (if missing) readable and writable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _rotate(source: str, dest: str) -> None:
    # RotatingFileHandler reopens `source` after this: make it 0600 before it does.
    os.replace(source, dest)
    _private(Path(source))


def setup(settings: Settings) -> Path | None:
    """Send the `seat` loggers to the log file; None when the folder cannot be written (the
    seat still runs, it only keeps no log)."""
    global _handler
    path = log_path(settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _private(path)
        handler = RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError:
        return None
    handler.rotator = _rotate
    handler.setFormatter(logging.Formatter(FORMAT))
    if _handler is not None:
        log.removeHandler(_handler)
        _handler.close()
    _handler = handler
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return path


def current_path() -> Path | None:
    """The file the log goes to now (None before `setup`, or when it could not be opened)."""
    return Path(_handler.baseFilename) if _handler is not None else None


def close() -> None:
    """Detach the log file (tests; the end of `main`)."""
    global _handler
    if _handler is not None:
        log.removeHandler(_handler)
        _handler.close()
        _handler = None
