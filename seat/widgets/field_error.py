"""A message under a field: hidden while empty."""

from __future__ import annotations

from textual.widgets import Label


class FieldError(Label):
    DEFAULT_CSS = "FieldError { color: $error; height: auto; }"

    def __init__(self, message: str = "", **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.display = bool(message)

    def show(self, message: str) -> None:
        self.update(message)
        self.display = bool(message)
