"""One small form per complaint move. Each dismisses with the complaint's id once saved.

Text that goes to the customer is checked for forbidden wording first: the phrase is
shown at the field, and the agent rephrases or presses ctrl+s again to keep it (the event
then records that the wording was kept on purpose).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Select, TextArea

from seat import complaints, wording
from seat.complaints import CaseView, MoveRefused
from seat.customers import ValidationError
from seat.i18n import N_, _, format_datetime
from seat.roles import PermissionDenied
from seat.screens.form import FormScreen
from seat.services import ComplaintMove
from seat.sla import Policy
from seat.widgets.lines import fit_text


class MoveForm(FormScreen):
    """Subclasses name their `MOVE`, yield their fields and implement `details(kept)`: the
    move's values, from the fields (`kept`: forbidden wording kept on purpose)."""

    DEFAULT_CSS = """
    MoveForm .field-error { width: 100%; }
    """

    MOVE: ClassVar[ComplaintMove]

    CUSTOMER_FACING: tuple[str, ...] = ()
    """Fields whose text the customer hears or reads: checked for forbidden wording."""

    def __init__(self, view: CaseView, policy: Policy, **extra: Any) -> None:
        super().__init__()
        self.view = view
        self.policy = policy
        self.extra = extra
        self._confirmed: dict[str, str] = {}

    @property
    def complaint_id(self) -> int:
        return self.view.complaint.id  # type: ignore[return-value]

    def _wording(self) -> list[str]:
        """Warn once per text; the same text saved again is kept on purpose."""
        warnings: dict[str, str] = {}
        kept: list[str] = []
        for name in self.CUSTOMER_FACING:
            text = self.value(name)
            hits = wording.check(text)
            if not hits:
                continue
            if self._confirmed.get(name) != text:
                warnings[name] = wording.warning(text, hits)
                self._confirmed[name] = text
            kept += [h.phrase for h in hits if h.phrase not in kept]
        if warnings:
            raise ValidationError(warnings)
        return kept

    def submit(self) -> int:
        kept = self._wording()
        desk = self.services
        agent = self.seat_agent
        try:
            desk.move_complaint(
                self.MOVE, complaint_id=self.complaint_id, actor_id=agent.id,
                version=self.view.complaint.version, **self.details(kept),
            )  # fmt: skip
        except (MoveRefused, PermissionDenied) as exc:
            raise ValidationError({"_": str(exc)}) from None
        return self.complaint_id

    def details(self, kept: list[str]) -> dict[str, object]:
        raise NotImplementedError


def _categories(policy: Policy) -> list[tuple[str, str]]:
    return [(_(c.label), c.id) for c in policy.categories]


class AcceptForm(MoveForm):
    TITLE_TEXT = N_("Judge valid: name the department, reply to the customer")
    MOVE = "accept"
    CUSTOMER_FACING = ("reply_text",)

    def fields(self) -> ComposeResult:
        c = self.view.complaint
        cats = _categories(self.policy)
        known = {cid for __, cid in cats}
        yield from self.field(
            _("Category (can change at closing)"), "category",
            Select(cats, value=c.category if c.category in known else Select.NULL,
                   prompt=_("choose a category")),
        )  # fmt: skip
        yield from self.field(
            _("Responsible department *"), "department", Input(c.department or "", max_length=80)
        )
        yield from self.field(
            _("Reply to the customer (ask them for time) *"), "reply_text",
            TextArea(c.reply_text or ""),
        )  # fmt: skip

    @on(Select.Changed, "#f-category")
    def _suggest_department(self, event: Select.Changed) -> None:
        found = self.policy.category(str(event.value)) if event.value != Select.NULL else None
        department = self.query_one("#f-department", Input)
        if found and found.department and not department.value.strip():
            department.value = found.department

    def details(self, kept: list[str]) -> dict[str, object]:
        return dict(
            department=self.value("department"), reply_text=self.value("reply_text"),
            category=self.value("category") or None, policy=self.policy, wording_kept=kept,
        )  # fmt: skip


class InvalidForm(MoveForm):
    TITLE_TEXT = N_("Judge invalid: why, and what the customer is told")
    MOVE = "invalid"
    CUSTOMER_FACING = ("reply_text",)

    def fields(self) -> ComposeResult:
        yield from self.field(_("Why it is not a valid complaint *"), "invalid_reason", TextArea())
        yield from self.field(
            _("Explanation to the customer (polite) *"), "reply_text", TextArea()
        )

    def details(self, kept: list[str]) -> dict[str, object]:
        return dict(
            invalid_reason=self.value("invalid_reason"), reply_text=self.value("reply_text"),
            policy=self.policy, wording_kept=kept,
        )  # fmt: skip


class InvestigateForm(MoveForm):
    TITLE_TEXT = N_("Investigation: cause and who is responsible")
    MOVE = "investigate"

    def fields(self) -> ComposeResult:
        c = self.view.complaint
        causes = [(label, cid) for cid, label in self.policy.causes]
        yield from self.field(
            _("Cause *"), "cause",
            Select(causes, value=c.cause if c.cause in dict(self.policy.causes) else Select.NULL,
                   prompt=_("choose a cause")),
        )  # fmt: skip
        yield from self.field(
            _("Responsible person *"), "responsible_person",
            Input(c.responsible_person or "", max_length=120),
        )  # fmt: skip
        yield from self.field(
            _("Responsible department *"), "department", Input(c.department or "", max_length=80)
        )
        yield from self.field(_("Findings"), "comment", TextArea())

    def details(self, kept: list[str]) -> dict[str, object]:
        return dict(
            cause=self.value("cause"), responsible_person=self.value("responsible_person"),
            department=self.value("department"), comment=self.value("comment"),
            policy=self.policy,
        )  # fmt: skip


class ProposeForm(MoveForm):
    TITLE_TEXT = N_("Propose a solution: one option a line")
    MOVE = "propose"
    CUSTOMER_FACING = ("solution_options",)

    def fields(self) -> ComposeResult:
        yield from self.field(
            _("Solution options, one a line *"), "solution_options",
            TextArea(self.view.complaint.solution_options or ""),
        )  # fmt: skip
        yield from self.field(_("Comment for the supervisor"), "comment", Input())

    def details(self, kept: list[str]) -> dict[str, object]:
        return dict(
            solution_options=self.value("solution_options"), comment=self.value("comment"),
            wording_kept=kept,
        )  # fmt: skip


OPTION_CELLS = 66
"""A solution option in the approval list: one line of the form (76 wide, less its frame)."""


class ApproveForm(MoveForm):
    TITLE_TEXT = N_("Approve one option (supervisor)")
    MOVE = "approve"

    def fields(self) -> ComposeResult:
        options = complaints.options_of(self.view.complaint.solution_options)
        yield from self.field(
            _("Approved option *"), "chosen_solution",
            # A long option is cut in its list (the whole text is what gets approved): a
            # wrapped one ran out of the form over the screen below.
            Select([(fit_text(o, OPTION_CELLS).plain, o) for o in options],
                   value=options[0] if len(options) == 1 else Select.NULL,
                   prompt=_("choose the option")),
        )  # fmt: skip
        yield from self.field(_("Comment"), "comment", Input())

    def details(self, kept: list[str]) -> dict[str, object]:
        return dict(
            chosen_solution=self.value("chosen_solution"), comment=self.value("comment"),
        )  # fmt: skip


class SendBackForm(MoveForm):
    TITLE_TEXT = N_("Send the proposal back (supervisor)")
    MOVE = "send_back"

    def fields(self) -> ComposeResult:
        yield from self.field(_("What must change *"), "comment", TextArea())

    def details(self, kept: list[str]) -> dict[str, object]:
        return dict(comment=self.value("comment"))


class ImplementForm(MoveForm):
    TITLE_TEXT = N_("Implement: the customer's answer")
    MOVE = "implement"

    def fields(self) -> ComposeResult:
        yield from self.field(
            _("Told the customer: {solution}").format(
                solution=self.view.complaint.chosen_solution or "-"), "accepted",
            Select([(_("yes, the customer accepts"), "yes"),
                    (_("no, the customer refuses (back to proposing)"), "no")],
                   prompt=_("does the customer accept?")),
        )  # fmt: skip
        yield from self.field(_("The customer's feedback *"), "comment", TextArea())

    def details(self, kept: list[str]) -> dict[str, object]:
        answer = self.value("accepted")
        return dict(
            accepted={"yes": True, "no": False}.get(answer), comment=self.value("comment"),
            policy=self.policy,
        )  # fmt: skip


class CloseForm(MoveForm):
    TITLE_TEXT = N_("Summarize and close")
    MOVE = "close"

    def fields(self) -> ComposeResult:
        c = self.view.complaint
        cats = _categories(self.policy)
        known = {cid for __, cid in cats}
        yield from self.field(
            _("Category *"), "category",
            Select(cats, value=c.category if c.category in known else Select.NULL,
                   prompt=_("choose a category")),
        )  # fmt: skip
        yield from self.field(_("Root cause *"), "root_cause", TextArea())
        yield from self.field(_("Summary and improvement *"), "summary", TextArea())

    def details(self, kept: list[str]) -> dict[str, object]:
        return dict(
            category=self.value("category"), root_cause=self.value("root_cause"),
            summary=self.value("summary"),
            policy=self.policy,
        )  # fmt: skip


class EscalateForm(MoveForm):
    TITLE_TEXT = N_("Escalate to a supervisor (you stay the owner)")
    MOVE = "escalate"

    def fields(self) -> ComposeResult:
        people: list[tuple[int, str]] = self.extra.get("supervisors", [])
        yield from self.field(
            _("Supervisor *"), "supervisor",
            Select([(name, str(i)) for i, name in people],
                   value=str(people[0][0]) if len(people) == 1 else Select.NULL,
                   prompt=_("choose a supervisor")),
        )  # fmt: skip
        yield from self.field(_("Why it goes beyond your authority *"), "comment", TextArea())
        promised = self.view.complaint.promised_reply_at
        yield from self.field(
            _("Reply promised to the customer by (2026-11-24 10:30, 15:00 or +4h)")
            + ("" if promised else " *"),
            "promised", Input(placeholder=_("keep the promise made") if promised else "+4h"),
        )  # fmt: skip

    def details(self, kept: list[str]) -> dict[str, object]:
        who = self.value("supervisor")
        typed = self.value("promised").strip()
        promised = None
        if typed:
            try:
                promised = self.services.parse_when(typed)
            except ValueError as exc:
                raise ValidationError({"promised": str(exc)}) from None
        elif self.view.complaint.promised_reply_at is None:
            raise ValidationError(
                {"promised": _("Agree a reply time with the customer and enter it.")}
            )
        return dict(supervisor_id=int(who) if who else None, comment=self.value("comment"),
                    promised_reply_at=promised)  # fmt: skip


class PauseForm(MoveForm):
    TITLE_TEXT = N_("Wait on the customer (the clocks pause)")
    MOVE = "pause"

    def fields(self) -> ComposeResult:
        yield from self.field(_("What we wait for *"), "comment", Input(max_length=500))

    def details(self, kept: list[str]) -> dict[str, object]:
        return dict(comment=self.value("comment"))


class ResumeForm(MoveForm):
    TITLE_TEXT = N_("Resume: the customer came back")
    MOVE = "resume"

    def fields(self) -> ComposeResult:
        since: datetime | None = self.view.complaint.waiting_since
        desk = self.services
        when = format_datetime(desk.local(since), "short") if since else "-"
        yield from self.field(
            _("Waiting since {when}. Comment").format(when=when), "comment", Input()
        )

    def details(self, kept: list[str]) -> dict[str, object]:
        return dict(comment=self.value("comment"))


class CloseLoopForm(FormScreen):
    """A supervisor closes an unsatisfied callback's loop with a reason (seat.loops)."""

    TITLE_TEXT = N_("Close the loop (supervisor)")

    def __init__(self, view: CaseView) -> None:
        super().__init__()
        self.view = view

    def fields(self) -> ComposeResult:
        yield from self.field(
            _("Why the loop closes without a satisfied follow-up *"), "reason", TextArea()
        )

    def submit(self) -> int:
        c = self.view.complaint
        try:
            self.services.close_complaint_loop(
                c.id, actor_id=self.seat_agent.id, reason=self.value("reason"),  # type: ignore[arg-type]
                version=c.version,
            )  # fmt: skip
        except (MoveRefused, PermissionDenied) as exc:
            raise ValidationError({"_": str(exc)}) from None
        return c.id  # type: ignore[return-value]


FORMS: dict[str, type[MoveForm]] = {
    "accept": AcceptForm,
    "invalid": InvalidForm,
    "investigate": InvestigateForm,
    "propose": ProposeForm,
    "approve": ApproveForm,
    "send_back": SendBackForm,
    "implement": ImplementForm,
    "close": CloseForm,
    "escalate": EscalateForm,
    "pause": PauseForm,
    "resume": ResumeForm,
}


class MarkModelForm(FormScreen):
    """The solution agreed at the case meeting, as the next agent will read it."""

    TITLE_TEXT = N_("Mark as a model case")

    def __init__(self, view: CaseView, solution: str) -> None:
        super().__init__()
        self.view = view
        self.solution = solution

    def fields(self) -> ComposeResult:
        yield from self.field(_("Agreed solution *"), "solution", TextArea(self.solution))

    def on_mount(self) -> None:
        area = self.query_one("#f-solution", TextArea)
        area.move_cursor(area.document.end)  # the approved solution, to be added to

    def submit(self) -> int:
        cid = self.view.complaint.id or 0
        try:
            self.services.mark_model_case(
                cid, actor_id=self.seat_agent.id, solution=self.value("solution"),
                version=self.view.complaint.version,
            )  # fmt: skip
        except (MoveRefused, PermissionDenied) as exc:
            raise ValidationError({"_": str(exc)}) from None
        return cid
