"""A modal form: labelled fields, a message under each field, ctrl+s to save, esc to cancel.

The save runs in a thread worker (the database may be busy for seconds): the form says
"saving…" and keeps taking keys; a refused or failed save keeps every field as typed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static, TextArea

from seat.customers import ValidationError
from seat.i18n import N_, _
from seat.services import StorageError
from seat.widgets.door import Seated
from seat.widgets.field_error import FieldError

FieldValue = str | bool


# Priority bindings: the focus moves when the Tab arrives, not a message hop later (after
# the field it leaves has passed the key up), so what the agent types after it on a lagging
# seat goes to the next field, not into the one just left.
NEXT_FIELD_KEYS = (
    Binding("tab", "app.focus_next", show=False, priority=True, id="field.next"),
    Binding("shift+tab", "app.focus_previous", show=False, priority=True, id="field.previous"),
)


class FormScreen(Seated, ModalScreen[Any]):
    """Subclasses yield fields with `field(...)` and implement `submit()` -> id or raise.

    `submit()` runs in a worker thread: it reads the fields through `value()`/`flag()`,
    which answer there from the values taken when ctrl+s was pressed, and must not touch
    widgets otherwise.
    """

    DEFAULT_CSS = """
    FormScreen { align: center middle; }
    FormScreen > Vertical#form {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    FormScreen VerticalScroll { height: auto; max-height: 19; }
    FormScreen .field-label { color: $text-muted; margin-top: 0; }
    FormScreen .field-error { color: $error; height: auto; width: 100%; }
    FormScreen Input, FormScreen Select { width: 100%; }
    FormScreen Input { background: $boost; }
    FormScreen TextArea { height: 4; }
    FormScreen #form-error { color: $error; text-style: bold; }
    FormScreen #form-help { color: $text-muted; width: 100%; }
    FormScreen #form-help.-saving { color: $warning; text-style: bold; }
    """

    BINDINGS = [
        Binding(
            "ctrl+s", "save", N_("Save"), tooltip=N_("Check and save the form"), id="form.save"
        ),
        Binding(
            "escape", "cancel", N_("Cancel"), tooltip=N_("Close without saving"), id="form.cancel"
        ),
        *NEXT_FIELD_KEYS,
    ]

    TITLE_TEXT = N_("Form")
    """The form's title (N_-marked English; shown translated)."""

    SAVE_IN_THREAD: ClassVar[bool] = True
    """False for forms whose submit() never touches the database (filters, pickers)."""

    @dataclass
    class Saved(Message):
        """The save went through; the form closes with `result`."""

        form: FormScreen
        result: Any
        taken: dict[str, FieldValue]

    @dataclass
    class SaveRefused(Message):
        """The save was refused or failed; `errors` go under their fields, the input stays."""

        form: FormScreen
        errors: dict[str, str]

    # The first field (in reading order, wherever it sits) has focus as soon as the form is
    # composed, before any key reaches it: Textual's AUTO_FOCUS runs in the screen's compose,
    # so a Tab typed at once moves from it, never from a field focused later.
    AUTO_FOCUS = "#form .-field"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._taken = threading.local()
        self.saving = False
        """True while a save runs in its worker."""

    def compose(self) -> ComposeResult:
        with Vertical(id="form") as form:
            form.border_title = _(self.TITLE_TEXT)
            # Not a Tab stop of its own: Tab goes from the last field to the first again.
            with VerticalScroll(can_focus=False):
                yield from self.fields()
            yield FieldError(id="form-error", classes="field-error")
            yield Static(self._help(), id="form-help")

    @staticmethod
    def _help() -> str:
        return _("ctrl+s save · esc cancel · tab next field")

    def fields(self) -> ComposeResult:
        raise NotImplementedError

    @staticmethod
    def field(label: str, name: str, widget: Widget) -> ComposeResult:
        widget.id = f"f-{name}"
        widget.add_class("-field")
        if hasattr(widget, "compact"):
            widget.compact = True  # one line a field: a form fits at 80x24
        yield Label(label, classes="field-label")
        yield widget
        yield FieldError(id=f"err-{name}", classes="field-error")

    # -- reading the fields ---------------------------------------------------------------------

    @staticmethod
    def _read(widget: Widget) -> FieldValue:
        if isinstance(widget, Input):
            return widget.value
        if isinstance(widget, TextArea):
            return widget.text
        if isinstance(widget, Select):
            return "" if widget.value is Select.NULL else str(widget.value)
        if isinstance(widget, Checkbox):
            return widget.value
        raise TypeError(widget.id)

    def _take(self) -> dict[str, FieldValue]:
        """Every field's value as it is now (on the UI thread, when ctrl+s is pressed)."""
        return {
            (w.id or "")[2:]: self._read(w)
            for w in self.query(".-field")
            if (w.id or "").startswith("f-")
        }

    def value(self, name: str) -> str:
        taken = getattr(self._taken, "values", None)
        if taken is not None:
            found = taken[name]
        else:
            found = self._read(self.query_one(f"#f-{name}"))
        if isinstance(found, bool):
            raise TypeError(name)
        return found

    def flag(self, name: str) -> bool:
        taken = getattr(self._taken, "values", None)
        if taken is not None:
            return bool(taken[name])
        return self.query_one(f"#f-{name}", Checkbox).value

    # -- errors ---------------------------------------------------------------------------------

    def show_errors(self, errors: dict[str, str]) -> None:
        for label in self.query(".field-error").results(FieldError):
            label.show("")
        general = []
        first: tuple[Widget, FieldError] | None = None
        for key, msg in errors.items():
            found = self.query(f"#err-{key}")
            if found:
                message = found.first(FieldError)
                message.show(msg)
                first = first or (self.query_one(f"#f-{key}"), message)
            else:
                general.append(msg)
        self.query_one("#form-error", FieldError).show("\n".join(general))
        if first is not None:
            widget, message = first
            widget.focus(scroll_visible=False)
            # After the message is laid out: the field and its message both in view.
            self.call_after_refresh(self._bring_into_view, widget, message)

    @staticmethod
    def _bring_into_view(widget: Widget, message: FieldError) -> None:
        message.scroll_visible(animate=False, immediate=True)
        widget.scroll_visible(animate=False, immediate=True)

    def _clear_error(self, widget: Widget) -> None:
        """A field's message goes when the field is changed (the agent is fixing it)."""
        wid = widget.id or ""
        if wid.startswith("f-"):
            for message in self.query(f"#err-{wid[2:]}").results(FieldError):
                message.show("")

    @on(Input.Changed)
    def _input_edited(self, event: Input.Changed) -> None:
        self._clear_error(event.input)

    @on(TextArea.Changed)
    def _text_edited(self, event: TextArea.Changed) -> None:
        self._clear_error(event.text_area)

    @on(Select.Changed)
    def _select_edited(self, event: Select.Changed) -> None:
        self._clear_error(event.select)

    @on(Checkbox.Changed)
    def _checkbox_edited(self, event: Checkbox.Changed) -> None:
        self._clear_error(event.checkbox)

    # -- saving ---------------------------------------------------------------------------------

    def submit(self) -> Any:
        raise NotImplementedError

    def _attempt(self, taken: dict[str, FieldValue]) -> Saved | SaveRefused:
        """submit() with the taken values; the outcome as a message for the UI thread."""
        self._taken.values = taken
        try:
            return self.Saved(self, self.submit(), taken)
        except ValidationError as exc:
            return self.SaveRefused(self, exc.errors)
        except StorageError as exc:
            return self.SaveRefused(self, {"_": str(exc)})
        finally:
            self._taken.values = None

    def action_save(self) -> None:
        if self.saving:
            self.notify(_("Still saving…"), severity="warning")
            return
        taken = self._take()
        if not self.SAVE_IN_THREAD:
            self.post_message(self._attempt(taken))
            return
        self.saving = True
        help_line = self.query_one("#form-help", Static)
        help_line.update(_("saving…"))
        help_line.add_class("-saving")
        self._save(taken)

    @work(thread=True, exclusive=True, group="form-save")
    def _save(self, taken: dict[str, FieldValue]) -> None:
        self.post_message(self._attempt(taken))

    def _saving_done(self) -> None:
        self.saving = False
        help_line = self.query_one("#form-help", Static)
        help_line.update(self._help())
        help_line.remove_class("-saving")

    @on(SaveRefused)
    def _refused(self, event: SaveRefused) -> None:
        if event.form is not self:
            return
        self._saving_done()
        self.show_errors(event.errors)

    @on(Saved)
    def _saved(self, event: Saved) -> None:
        if event.form is not self:
            return
        self._saving_done()
        if self._take() != event.taken:
            self.notify(
                _("Saved as it was when you pressed ctrl+s; what you typed after is not saved."),
                severity="warning",
            )
        self.announce_change(type(self).__name__)
        self.dismiss(event.result)

    def action_cancel(self) -> None:
        if self.saving:
            # The save may still go through: closing now would lose what it created.
            self.notify(_("Still saving…"), severity="warning")
            return
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()
