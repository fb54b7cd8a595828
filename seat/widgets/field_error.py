"""A message under a field: hidden while empty."""

from __future__ import annotations

from textual.widgets import Label


class FieldError(Label):
    # Full width: a long message wraps onto more lines instead of being cut at the edge.
    DEFAULT_CSS = "FieldError { color: $error; height: auto; width: 100%; }"

    def __init__(self, message: str = "", **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.display = bool(message)

    def show(self, message: str) -> None:
        self.update(message)
        self.display = bool(message)
