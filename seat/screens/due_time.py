"""A form that sets when a callback is due, minding the customer's rest hours (回访避开休息时间).

A time inside the customer's rest hours is not saved at once, and not refused either: the
message at the field says so and offers the next time they may be called. ctrl+o (or the
button under the field) takes that time; ctrl+s again keeps the asked one (a time the
customer agreed to).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from textual import on
from textual.binding import Binding
from textual.widgets import Button, Input

from seat.callbacks import RestClash
from seat.customers import ValidationError
from seat.i18n import N_, _, format_datetime
from seat.screens.form import FormScreen
from seat.services import RestReader

WHEN_FORMAT = "%Y-%m-%d %H:%M"
"""How an accepted time is written into the field (what `desk.parse_when` reads back)."""


class DueTimeForm(FormScreen):
    """Subclasses name the due field (`DUE_FIELD`), yield `offer_button()` right after it,
    and pass `check_rest` to the desk's save as its `before_commit`."""

    DUE_FIELD = "due_at"

    BINDINGS = [
        Binding(
            "ctrl+o",
            "open_time",
            N_("Open time"),
            tooltip=N_("Use the next time the customer may be called"),
            id="form.open_time",
        ),
    ]

    DEFAULT_CSS = """
    DueTimeForm #open-time { width: auto; margin: 0 0 0 0; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.offer: RestClash | None = None
        """The rest-hours clash the field shows, with the time offered instead."""
        self._warned: datetime | None = None
        """The asked time already warned about: saving it again keeps it."""

    def offer_button(self) -> Button:
        button = Button("", id="open-time", compact=True)
        button.display = False
        return button

    def check_rest(
        self, customer_id: int | None, due: datetime | None, read: RestReader | None = None
    ) -> None:
        """Stop the save once, with a message at the field, when `due` is in rest hours.

        Called inside the save's transaction (`read` reads there) once every field is valid,
        so the other fields' messages come first and the warning undoes the save.
        """
        if customer_id is None or due is None or due == self._warned:
            return
        clash = (read or self.services.rest_clash)(customer_id, due)
        if clash is None:
            return
        self.offer, self._warned = clash, due
        raise ValidationError({self.DUE_FIELD: self._message(clash)})

    def _message(self, clash: RestClash) -> str:
        desk = self.services
        asked = format_datetime(desk.local(clash.asked), "weekday")
        opens = format_datetime(desk.local(clash.opens_at), "weekday")
        theirs = clash.asked.astimezone(ZoneInfo(clash.zone))
        if theirs.utcoffset() != desk.local(clash.asked).utcoffset():
            asked += " " + _("(their time {time})").format(time=format_datetime(theirs, "weekday"))
        return _(
            "{asked} is in the customer's rest hours. They may be called from {opens}: "
            "ctrl+o takes that time; ctrl+s again keeps yours."
        ).format(asked=asked, opens=opens)

    def show_errors(self, errors: dict[str, str]) -> None:
        super().show_errors(errors)
        button = self.query_one("#open-time", Button)
        offered = self.offer is not None and self.DUE_FIELD in errors
        if offered:
            opens = format_datetime(self.services.local(self.offer.opens_at), "weekday")  # type: ignore[attr-defined,union-attr]
            button.label = _("Use {time} (ctrl+o)").format(time=opens)
        button.display = offered
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_time":
            return self.offer is not None
        return super().check_action(action, parameters)

    def action_open_time(self) -> None:
        """Put the offered time into the field; ctrl+s then saves it."""
        if self.offer is None:
            return
        local = self.services.local(self.offer.opens_at)
        field = self.query_one(f"#f-{self.DUE_FIELD}", Input)
        self.offer = None
        field.value = local.strftime(WHEN_FORMAT)
        self.query_one(f"#err-{self.DUE_FIELD}").display = False
        self.query_one("#open-time", Button).display = False
        self.refresh_bindings()
        field.focus()

    @on(Input.Changed)
    def _due_edited(self, event: Input.Changed) -> None:
        """A new time typed by hand: the offer made for the old one goes."""
        if event.input.id == f"f-{self.DUE_FIELD}" and self.offer is not None:
            self.offer = None
            self.query_one("#open-time", Button).display = False
            self.refresh_bindings()

    @on(Button.Pressed, "#open-time")
    def _take_offer(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_open_time()
