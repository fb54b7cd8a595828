"""A shift at the seat, 08:30 to 21:30 in Shanghai, at 80x24, in English and in Chinese.

The injected clock moves through the morning, the customers' lunch rest (12:00-14:00) and
past 21:00 (their night rest). Li Na takes a call of every need, opens every sidebar item at
several hours, walks a complaint and a work order through their steps and makes callbacks
with every outcome. After each step: the seat is still running (no unhandled exception) and
the sidebar's counts equal the rows in the database for her, counted here with plain
queries (not with the functions the sidebar uses).
"""

from __future__ import annotations

import re
import traceback
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from textual.widgets import Checkbox, DataTable, Input, Label, OptionList, Select, TextArea

from seat import callbacks, i18n
from seat.app import make_app
from seat.clock import FixedClock
from seat.i18n import _, ngettext
from seat.models import Call, Callback, Complaint, Customer, PhoneNumber, WorkOrder
from seat.widgets.sidebar import Sidebar
from tests.conftest import NOW
from tests.ui.helpers import (
    FLOOR_ZONE,
    choose,
    floor,
    high_water,
    integrity_problems,
    option_labels,
    settle,
)

ZONE = ZoneInfo(FLOOR_ZONE)
DAY = datetime(2026, 11, 24, tzinfo=ZONE)  # the day after the floor was built (tests.conftest)
LUNCH_CROWD = 55
"""Callbacks due over lunch, more than a page of the sidebar (50)."""

# The sidebar's count lines (msgids, read in the seat's language).
COUNT_LINES = {
    "callable": ("Call now {late} late · {due} due",),
    "waiting": ("Waiting {n} · {late} late", "Waiting for window {n}"),
    "orders": ("Orders {open} open · {urgent} urgent",),
}
COMPLAINT_LINES = (
    "{n} open complaint(s) · {time}",
    ("{n} open complaint · {time}", "{n} open complaints · {time}"),
)
"""The status line under the queue: the agent's open complaints (a plural form, or not)."""
FIRST = "<the first choice>"


def at(hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return DAY.replace(hour=hour, minute=minute)


def shift_floor(engine) -> dict[str, int]:
    """The floor of tests.ui.helpers plus a lunch crowd of callbacks, more than a page."""
    ids = floor(engine)
    with Session(engine, expire_on_commit=False) as s:
        from seat import customers

        past = NOW - timedelta(days=20)
        for n in range(LUNCH_CROWD):
            c = customers.create_customer(
                session=s, now=past, name=f"午餐{n:02d}", phone_text=f"137 1000 {n:04d}"
            )
            s.add(Callback(customer_id=c.id, owner_id=ids["li"], reason=f"Lunch follow-up {n}",
                           kind="satisfaction", created_at=past,
                           due_at=at("12:05") + timedelta(minutes=n)))  # fmt: skip
        s.commit()
    return ids


# -- what the database says -------------------------------------------------------------------


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=ZoneInfo("UTC"))


def truth(engine, settings, agent_id: int, now: datetime) -> dict[str, int]:
    """The agent's counts, read from the rows: open callbacks due within the sidebar's
    horizon, split by whether the customer may be called now (rest hours) and by whether
    the due time has passed; open orders, urgent ones; open complaints."""
    policy = callbacks.load_policy(settings)
    horizon = now + timedelta(hours=policy.sidebar_horizon_hours)
    counts = {"late": 0, "due": 0, "waiting": 0, "waiting_late": 0}
    with Session(engine) as s:
        rows = s.exec(
            select(Callback.customer_id, Callback.due_at).where(
                Callback.owner_id == agent_id, Callback.status == "open"
            )
        ).all()
        for customer_id, due_at in rows:
            due_at = _aware(due_at)
            if due_at > horizon:
                continue
            number = s.exec(
                select(PhoneNumber.e164)
                .where(PhoneNumber.customer_id == customer_id, ~PhoneNumber.wrong_number)
                .order_by(PhoneNumber.id)
            ).first()
            zones = callbacks.number_zones(number, policy.home_zone, policy.rest_windows)
            if not callbacks.callable_at(now, zones=zones, windows=policy.rest_windows):
                counts["waiting"] += 1
                counts["waiting_late"] += due_at < now
            elif due_at < now:
                counts["late"] += 1
            else:
                counts["due"] += 1
        open_orders = select(func.count()).where(
            WorkOrder.assignee_id == agent_id, WorkOrder.status != "closed"
        )
        counts["open"] = s.exec(open_orders).one()
        counts["urgent"] = s.exec(open_orders.where(WorkOrder.urgent)).one()
        counts["complaints"] = s.exec(
            select(func.count()).where(
                Complaint.owner_id == agent_id, Complaint.status.not_in(("closed", "invalid"))
            )
        ).one()
    return counts


# -- what the sidebar shows ---------------------------------------------------------------------


def sidebar_lines(app) -> list[str]:
    bar = app.screen.query_one(Sidebar)
    lines = [str(label.render()) for label in bar.query(Label)]
    options = bar.query_one(OptionList)
    lines += [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
    return lines


def _pattern(template: str) -> re.Pattern[str]:
    """{name} matches a number; {time} anything."""
    escaped = re.escape(template).replace(r"\{time\}", ".+?")
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>\\d+)", escaped))


def shown_complaints(app) -> int | None:
    text = "\n".join(sidebar_lines(app))
    for template in COMPLAINT_LINES:
        forms = {ngettext(*template, n) for n in (1, 2, 5)} if isinstance(template, tuple) else {
            _(template)
        }
        for form in forms:
            match = _pattern(form).search(text)
            if match:
                return int(match.group("n"))
    return None


def shown(app) -> dict[str, int]:
    """The numbers on the sidebar's count lines; -1 for a line that should be there and is
    not, 0 waiting when that line is left out (nothing waits)."""
    text = "\n".join(sidebar_lines(app))
    found: dict[str, dict[str, int]] = {}
    for line, templates in COUNT_LINES.items():
        for template in templates:
            match = _pattern(_(template)).search(text)
            if match:
                found[line] = {k: int(v) for k, v in match.groupdict().items()}
                break
    callable_ = found.get("callable", {})
    waiting = found.get("waiting", {})
    orders = found.get("orders", {})
    counts = {
        "late": callable_.get("late", -1),
        "due": callable_.get("due", -1),
        "waiting": waiting.get("n", 0),
        "open": orders.get("open", -1),
        "urgent": orders.get("urgent", -1),
    }
    if "late" in waiting:  # the waiting line also tells how many of them are overdue
        counts["waiting_late"] = waiting["late"]
    return counts


# -- driving the seat ----------------------------------------------------------------------------


class Shift:
    def __init__(self, pilot, clock: FixedClock, engine, settings, ids: dict[str, int]) -> None:
        self.pilot = pilot
        self.app = pilot.app
        self.clock = clock
        self.engine = engine
        self.settings = settings
        self.ids = ids
        self.log: list[str] = []

    async def keys(self, *keys: str) -> None:
        self.log.append(" ".join(keys))
        await self.pilot.press(*keys)
        await settle(self.pilot)
        self.alive()

    def alive(self) -> None:
        app = self.app
        if app._exception is not None:
            exc = app._exception
            tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            pytest.fail(self._where(f"unhandled exception\n{tb}"), pytrace=False)
        assert app.is_running, self._where("the seat stopped")

    def _where(self, why: str) -> str:
        local = self.clock.now().astimezone(ZONE).strftime("%H:%M")
        recent = "\n".join(f"  {k}" for k in self.log[-25:])
        return f"at {local} ({i18n.language()}): {why}\nlast keys:\n{recent}"

    def screen(self) -> str:
        return type(self.app.screen).__name__

    async def set_time(self, hhmm: str) -> None:
        self.clock.set(at(hhmm))
        self.log.append(f"-- {hhmm}")

    async def check(self, step: str) -> None:
        """Back on the desk, refreshed: the sidebar's counts are the database's."""
        self.alive()
        assert self.screen() == "DeskScreen", self._where(f"{step}: not on the desk")
        await self.keys("r")
        want = truth(self.engine, self.settings, self.ids["li"], self.clock.now())
        want_complaints = want.pop("complaints")
        got = shown(self.app)
        if "waiting_late" not in got:  # this sidebar does not say how many waiting are late
            want.pop("waiting_late")
        text = "\n".join(sidebar_lines(self.app))
        assert got == want, self._where(
            f"{step}: the sidebar shows {got}, the database has {want}\nsidebar:\n{text}"
        )
        assert shown_complaints(self.app) == want_complaints, self._where(
            f"{step}: {want_complaints} open complaints in the database\nsidebar:\n{text}"
        )

    # -- widgets ------------------------------------------------------------------------------

    async def choose(self, selector: str, value: str) -> None:
        """Pick the option stored as `value` in a Select by keys, by its label as shown in
        the seat's language (tests.ui.helpers.choose)."""
        select_ = self.app.screen.query_one(selector, Select)
        values = [v for __, v in select_._options]
        label = option_labels(select_)[values.index(value)]
        self.log.append(f"choose {label!r} in {selector}")
        await choose(self.pilot, label, select=selector)
        await settle(self.pilot)
        self.alive()
        assert select_.value == value, self._where(f"{selector} shows {select_.value!r}")

    async def fill(self, values: dict[str, str | bool]) -> None:
        """Type into a form's fields (ids f-NAME) by keys; FIRST picks a Select's first
        choice."""
        for name, value in values.items():
            widget = self.app.screen.query_one(f"#f-{name}")
            if isinstance(widget, Select):
                if value == FIRST:
                    value = next(v for __, v in widget._options if v != Select.NULL)
                await self.choose(f"#f-{name}", str(value))
                continue
            widget.focus()
            await self.pilot.pause()
            if isinstance(widget, Checkbox):
                if widget.value != value:
                    await self.keys("space")
            elif isinstance(widget, Input):
                await self.keys("home", "ctrl+k", *str(value))
            elif isinstance(widget, TextArea):
                await self.keys(*["enter" if c == "\n" else c for c in str(value)])

    async def save_form(self, form: str) -> None:
        assert self.screen() == form, self._where(f"expected {form}, on {self.screen()}")
        await self.keys("ctrl+s")
        errors = [str(e.render()) for e in self.app.screen.query(".field-error")]
        assert self.screen() != form, self._where(f"{form} did not save: {errors}")

    # -- the sidebar --------------------------------------------------------------------------

    async def open_every_item(self, *, one_of_each: bool = False) -> int:
        """Enter on every item of the queue (a group's count line expands it, and its items
        are opened too), back to the desk each time; or on the first item of each kind."""
        seen: set[str] = set()
        kinds: set[str] = set()
        while True:
            options = self.app.screen.query_one("#sidebar-list", OptionList)
            todo = [
                (i, option.id)
                for i in range(options.option_count)
                if (option := options.get_option_at_index(i)).id
                and not option.disabled
                and option.id not in seen
                and not (one_of_each and option.id.split(":")[0] in kinds)
            ]
            if not todo:
                return len(seen)
            index, oid = todo[0]
            seen.add(oid)
            kinds.add(oid.split(":")[0])
            options.focus()
            options.highlighted = index
            await self.pilot.pause()
            await self.keys("enter")
            await self.back_to_desk(oid)

    async def back_to_desk(self, what: str) -> None:
        for __ in range(4):
            name = self.screen()
            if name == "DeskScreen":
                return
            if name == "CallScreen":
                await self.keys("escape")
                if self.screen() == "ConfirmScreen":
                    await self.keys("y")
            else:
                await self.keys("escape")
        assert self.screen() == "DeskScreen", self._where(f"stuck on {self.screen()} ({what})")

    def sidebar_item(self, prefix: str, customer_id: int) -> int:
        options = self.app.screen.query_one("#sidebar-list", OptionList)
        for i in range(options.option_count):
            oid = options.get_option_at_index(i).id or ""
            if oid.startswith(f"{prefix}:") and oid.endswith(f":{customer_id}"):
                return i
        raise AssertionError(self._where(f"no {prefix} item for customer #{customer_id}"))

    # -- calls --------------------------------------------------------------------------------

    async def inbound(self, need: str, number: str, work: str | None = None) -> int:
        """Take a call of `need` from `number`, open `work` on it, save it; the call's id."""
        before = high_water(self.engine)["call"]
        await self.keys("n", *number, "enter")
        if self.screen() == "NewCustomerScreen":
            await self.fill({"name": "新客户 " + need})
            await self.save_form("NewCustomerScreen")
        assert self.screen() == "CallScreen", self._where(f"no call screen but {self.screen()}")
        self.clock.advance(seconds=20)
        await self.keys("f2")
        await self.choose("#sf-need_category", need)
        await self.keys("tab", *f"{need} 的来电")
        self.clock.advance(seconds=60)
        await self.keys("f2")
        if work == "callback":
            await self.keys("f5")
            await self.fill({"due_at": "+3h", "reason": "回电确认 confirm"})
            await self.keys("ctrl+s")
            if self.screen() == "CallbackForm":  # in the customer's rest hours: take the offer
                await self.keys("ctrl+o")
                await self.save_form("CallbackForm")
        elif work == "order":
            await self.keys("f6")
            await self.fill({"short_text": "洗衣机不转 washer stuck", "urgent": True,
                             "due_at": "+4h"})  # fmt: skip
            await self.choose("#f-assignee", str(self.ids["li"]))
            await self.save_form("WorkOrderForm")
        elif work == "complaint":
            await self.keys("f7")
            await self.fill({"what_happened": "送货晚了三天\nDelivered 3 days late",
                             "customer_wants": "道歉 an apology"})  # fmt: skip
            await self.save_form("ComplaintForm")
        self.clock.advance(seconds=60)
        await self.keys("f2", "f2")  # closing, wrap-up
        self.clock.advance(seconds=30)
        await self.keys("ctrl+s")
        assert self.screen() == "DeskScreen", self._where(f"{need} call not saved")
        with Session(self.engine) as s:
            call = s.exec(select(Call).where(Call.id > before)).one()
            assert call.need_category == need and call.ended_at is not None
            return call.id  # type: ignore[return-value]

    async def callback(self, customer_id: int, outcome: str) -> Callback:
        """Start the customer's callback from the sidebar and end it with `outcome`."""
        options = self.app.screen.query_one("#sidebar-list", OptionList)
        options.focus()
        options.highlighted = self.sidebar_item("cb", customer_id)
        await self.pilot.pause()
        await self.keys("enter")
        assert self.screen() == "CallScreen", self._where(f"callback not started: {outcome}")
        state = self.app.screen.state
        cb_id = state.callback_id
        self.clock.advance(seconds=30)
        if outcome in ("no_answer", "busy", "wrong_number"):
            await self.keys("f8")
            if outcome != "no_answer":
                await self.choose("#outcome", outcome)
        else:
            await self.answered(outcome == "satisfied")
        self.clock.advance(seconds=30)
        await self.keys("ctrl+s")
        if self.screen() == "ComplaintForm":  # unsatisfied: the complaint form, prefilled
            await self.complaint_form()
        assert self.screen() == "DeskScreen", self._where(f"callback {outcome} not saved")
        with Session(self.engine) as s:
            return s.get(Callback, cb_id)

    async def complaint_form(self) -> None:
        """The complaint form an unsatisfied answer opens: complete what is empty, save."""
        for name, text in (("what_happened", "师傅迟到 late"), ("customer_wants", "道歉 sorry")):
            widget = self.app.screen.query_one(f"#f-{name}")
            if not (widget.text if isinstance(widget, TextArea) else widget.value).strip():
                await self.fill({name: text})
        await self.save_form("ComplaintForm")

    async def answered(self, satisfied: bool) -> None:
        """Walk the callback's script: the answers its fields ask for, stage by stage."""
        screen = self.app.screen
        for __ in range(12):
            if screen.state.in_wrapup:
                return
            if self.screen() == "ComplaintForm":
                await self.complaint_form()
                continue
            for field in screen.state.stage.fields:
                selector = f"#sf-{field.id}"
                if field.type == "choice":
                    wanted = [c for c in field.choices if ("unsatisfied" in c) != satisfied]
                    wanted = wanted or list(field.choices)
                    await self.choose(selector, wanted[0] if satisfied else wanted[-1])
                elif field.type == "score":
                    await self.choose(selector, "5" if satisfied else "2")
                else:
                    screen.query_one(selector).focus()
                    await self.pilot.pause()
                    await self.keys(*("很好 fine" if satisfied else "师傅迟到 late"))
            self.clock.advance(seconds=40)
            await self.keys("f2")
        raise AssertionError(self._where("the callback script never reached wrap-up"))

    # -- a complaint and an order ---------------------------------------------------------------

    async def open_from_sidebar(self, oid: str, screen: str) -> None:
        options = self.app.screen.query_one("#sidebar-list", OptionList)
        options.focus()
        options.highlighted = options.get_option_index(oid)
        await self.pilot.pause()
        await self.keys("enter")
        assert self.screen() == screen, self._where(f"{oid} opened {self.screen()}")

    async def open_complaint(self, complaint_id: int) -> None:
        """c (the complaint list), the complaint's row, Enter."""
        await self.keys("c")
        assert self.screen() == "ComplaintListScreen", self._where("no complaint list")
        table = self.app.screen.query_one(DataTable)
        table.focus()
        table.move_cursor(row=table.get_row_index(str(complaint_id)))
        await self.pilot.pause()
        await self.keys("enter")
        assert self.screen() == "ComplaintScreen", self._where(f"complaint opened {self.screen()}")

    async def complaint_step(self, key: str, form: str, values: dict[str, str | bool]) -> None:
        await self.keys(key)
        await self.fill(values)
        await self.save_form(form)

    async def order_step(
        self, key: str, values: dict[str, str | bool], form: str = "StepForm"
    ) -> None:
        await self.keys(key)
        await self.fill(values)
        await self.save_form(form)


def _status(engine, model, row_id: int) -> str:
    with Session(engine) as s:
        return s.get(model, row_id).status


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
async def test_a_shift(lang, settings, engine, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ids = shift_floor(engine)
    since = high_water(engine)
    with Session(engine) as s:
        crowd = s.exec(
            select(Customer.id).where(Customer.name.like("午餐%")).order_by(Customer.id)
        ).all()
        wo_z2 = s.exec(
            select(WorkOrder.id).where(WorkOrder.kind == "delivery_exception")
        ).first()
        wo_z1 = s.exec(
            select(WorkOrder.id).where(WorkOrder.short_text == "Fridge not cooling")
        ).first()
    i18n.set_language(lang)
    clock = FixedClock(at("08:30"))
    app = make_app(settings=settings, clock=clock, agent="li.na", engine=engine)
    async with app.run_test(size=(80, 24)) as pilot:
        shift = Shift(pilot, clock, engine, settings, ids)
        await settle(pilot)
        await shift.check("08:30 start")
        # Before the customers' day starts: almost everything waits for the window.
        assert await shift.open_every_item() > 0
        await shift.check("08:30 every item opened")

        await shift.set_time("09:05")
        await shift.check("09:05 the window opens")
        await shift.inbound("inquiry", "138 0013 8000")
        await shift.check("09:05 inquiry")
        await shift.callback(ids["min"], "satisfied")
        await shift.check("09:10 satisfied callback")

        await shift.set_time("10:00")
        await shift.inbound("repair", "139 1234 5678", work="order")
        await shift.check("10:00 repair with an order")
        await shift.open_every_item(one_of_each=True)
        await shift.check("10:00 an item of each kind opened")

        await shift.set_time("11:00")
        await shift.inbound("complaint", "138 0013 8000", work="complaint")
        await shift.check("11:00 complaint")
        # The complaint of three days ago (its reply clock breached) is judged valid.
        await shift.open_complaint(ids["complaint"])
        await shift.complaint_step(
            "v", "AcceptForm",
            {"department": "售后 After-sales", "reply_text": "明天上门 a visit tomorrow"},
        )  # fmt: skip
        await shift.back_to_desk("the complaint")
        await shift.check("11:00 complaint accepted")
        assert _status(engine, Complaint, ids["complaint"]) == "investigating"

        await shift.set_time("11:40")
        await shift.callback(ids["amy"], "no_answer")
        await shift.check("11:40 no answer")

        await shift.set_time("12:15")  # lunch: the Shanghai customers rest
        await shift.check("12:15 lunch")
        await shift.open_every_item()
        await shift.check("12:15 every item opened")
        await shift.inbound("suggestion", "+44 20 7946 0958")
        await shift.check("12:15 suggestion")

        await shift.set_time("13:30")
        # The delivery exception: replied to sales, then delivered.
        await shift.open_from_sidebar(f"wo:{wo_z2}", "WorkOrderScreen")
        await shift.order_step("s", {"comment": "销售已回复 sales replied"})
        await shift.order_step("d", {"comment": "已送达 delivered"})
        await shift.keys("escape")
        await shift.check("13:30 order delivered")
        assert _status(engine, WorkOrder, wo_z2) == "delivered"

        await shift.set_time("14:05")  # the lunch crowd becomes callable
        await shift.check("14:05 after lunch")
        answered = await shift.callback(crowd[0], "unsatisfied")
        assert answered.status == "done"
        await shift.check("14:05 unsatisfied callback")
        busy = await shift.callback(crowd[1], "busy")
        assert busy.status == "open" and busy.attempts == 1 and busy.last_outcome == "busy"
        await shift.check("14:10 busy")
        wrong = await shift.callback(crowd[2], "wrong_number")
        assert wrong.attempts == 1 and wrong.last_outcome == "wrong_number"
        assert wrong.status != "open"  # the only number was wrong: nothing left to dial
        await shift.check("14:15 wrong number")
        happy = await shift.callback(crowd[3], "satisfied")
        assert happy.status == "done" and happy.score == 5
        await shift.check("14:20 satisfied")

        await shift.set_time("16:00")
        await shift.inbound("business", "139 1234 5678", work="callback")
        await shift.check("16:00 business with a callback")
        await shift.open_complaint(ids["complaint"])
        await shift.complaint_step(
            "i", "InvestigateForm",
            {"cause": FIRST, "responsible_person": "孙浩 Sun Hao",
             "department": "售后 After-sales"},
        )  # fmt: skip
        await shift.back_to_desk("the complaint")
        await shift.check("16:00 complaint investigated")

        await shift.set_time("18:00")
        await shift.inbound("notice", "137 0000 2222")  # a new caller, registered on the call
        await shift.check("18:00 notice from a new caller")
        await shift.open_from_sidebar(f"wo:{wo_z2}", "WorkOrderScreen")
        await shift.order_step("x", {"acceptance": "客户签收 signed by the customer"})
        await shift.keys("escape")
        await shift.check("18:00 order closed")
        assert _status(engine, WorkOrder, wo_z2) == "closed"
        await shift.open_from_sidebar(f"wo:{wo_z1}", "WorkOrderScreen")
        await shift.order_step("v", {"comment": "已勘察 surveyed"}, form="SurveyForm")
        await shift.keys("escape")
        await shift.check("18:00 order surveyed")

        await shift.set_time("20:30")
        await shift.callback(crowd[4], "no_answer")
        await shift.check("20:30 no answer")

        await shift.set_time("21:10")  # night rest: nothing is callable in Shanghai
        await shift.check("21:10 night")
        await shift.open_every_item()
        await shift.check("21:10 every item opened")

        await shift.set_time("21:30")
        last = await shift.inbound("repair", "138 0013 8000", work="callback")
        await shift.check("21:30 last call")
        with Session(engine) as s:
            promised = s.exec(select(Callback).where(Callback.call_id == last)).one()
        # +3h is past midnight, inside the customer's night: the seat offered 09:00.
        assert _aware(promised.due_at).astimezone(ZONE) == at("09:00") + timedelta(days=1)
    problems = integrity_problems(engine, since)
    assert not problems, problems
