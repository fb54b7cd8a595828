"""A running call timer that reads the injected clock."""

from __future__ import annotations

from datetime import datetime

from textual.reactive import reactive
from textual.widgets import Static

from seat.widgets.door import Seated


class CallTimer(Seated, Static):
    DEFAULT_CSS = "CallTimer { width: auto; text-style: bold; color: $success; }"

    elapsed: reactive[int] = reactive(0)
    """Seconds since the call started."""

    def __init__(self, started_at: datetime, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.started_at = started_at

    def on_mount(self) -> None:
        self.tick()
        self.set_interval(1, self.tick)

    def tick(self) -> None:
        now = self.services.now()
        self.elapsed = max(0, int((now - self.started_at).total_seconds()))

    def watch_elapsed(self, seconds: int) -> None:
        m, s = divmod(seconds, 60)
        h, m = divmod(m, 60)
        self.update(f"● {h:d}:{m:02d}:{s:02d}" if h else f"● {m:02d}:{s:02d}")
