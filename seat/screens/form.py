"""A modal form: labelled fields, a message under each field, ctrl+s to save, esc to cancel."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static, TextArea

from seat.customers import ValidationError
from seat.desk import StorageError
from seat.i18n import N_, _
from seat.widgets.field_error import FieldError


class FormScreen(ModalScreen[int | None]):
    """Subclasses yield fields with `field(...)` and implement `submit()` -> id or raise."""

    DEFAULT_CSS = """
    FormScreen { align: center middle; }
    FormScreen > Vertical#form {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    FormScreen VerticalScroll { height: auto; max-height: 19; }
    FormScreen .field-label { color: $text-muted; margin-top: 0; }
    FormScreen .field-error { color: $error; height: auto; }
    FormScreen Input, FormScreen Select { width: 100%; }
    FormScreen Input { background: $boost; }
    FormScreen TextArea { height: 4; }
    FormScreen #form-error { color: $error; text-style: bold; }
    FormScreen #form-help { color: $text-muted; }
    """

    BINDINGS = [
        Binding(
            "ctrl+s", "save", N_("Save"), tooltip=N_("Check and save the form"), id="form.save"
        ),
        Binding(
            "escape", "cancel", N_("Cancel"), tooltip=N_("Close without saving"), id="form.cancel"
        ),
    ]

    TITLE_TEXT = N_("Form")
    """The form's title (N_-marked English; shown translated)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="form") as form:
            form.border_title = _(self.TITLE_TEXT)
            with VerticalScroll():
                yield from self.fields()
            yield FieldError(id="form-error", classes="field-error")
            yield Static(_("ctrl+s save · esc cancel · tab next field"), id="form-help")

    def on_mount(self) -> None:
        self.query("#form VerticalScroll > *").filter(".-field").first().focus()

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

    def value(self, name: str) -> str:
        w = self.query_one(f"#f-{name}")
        if isinstance(w, Input):
            return w.value
        if isinstance(w, TextArea):
            return w.text
        if isinstance(w, Select):
            return "" if w.value is Select.NULL else str(w.value)
        raise TypeError(name)

    def flag(self, name: str) -> bool:
        return self.query_one(f"#f-{name}", Checkbox).value

    def show_errors(self, errors: dict[str, str]) -> None:
        for label in self.query(".field-error").results(FieldError):
            label.show("")
        general = []
        first: Widget | None = None
        for key, msg in errors.items():
            found = self.query(f"#err-{key}")
            if found:
                found.first(FieldError).show(msg)
                first = first or self.query_one(f"#f-{key}")
            else:
                general.append(msg)
        self.query_one("#form-error", FieldError).show("\n".join(general))
        if first is not None:
            first.focus()

    def submit(self) -> int:
        raise NotImplementedError

    def action_save(self) -> None:
        try:
            result = self.submit()
        except ValidationError as exc:
            self.show_errors(exc.errors)
            return
        except StorageError as exc:
            self.show_errors({"_": str(exc)})
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()
