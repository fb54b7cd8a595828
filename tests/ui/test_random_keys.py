"""Seeded random key presses on every main screen, at three clock times, in both languages.

Each walk starts one screen (the desk, a call, a complaint, a form, ...), then presses random
keys: the screen's own bindings, F-keys, Enter, Esc, Tab, arrows, numbers, Chinese text and
junk (control characters, pasted escape sequences). A key that leaves the screen is followed
by re-entering it, so every screen gets its share. Afterwards: the app is still running (no
unhandled exception), the database passes its integrity check and nothing is half-saved.

    SEAT_RANDOM_KEYS=2000 SEAT_RANDOM_SEED=7 python3 -m pytest tests/ui/test_random_keys.py

SEAT_RANDOM_KEYS is the number of key steps on each screen, per role, clock time and language
(the default, 10, makes about 2,000 steps in all for CI); SEAT_RANDOM_SEED changes every
walk. One seat per role, clock time and language walks its screens in turn (starting a seat
costs more than a hundred keys), so a walk meets what the earlier ones left in the database.
A failure names the seed, the screen, the screens walked before it and every step taken on
it; the same seed replays the same walk.
"""

from __future__ import annotations

import os
import random
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from textual import events

from seat import i18n
from seat.clock import FixedClock
from seat.widgets.sidebar import Sidebar
from tests.ui.helpers import FLOOR_ZONE, floor, high_water, integrity_problems, settle

KEYS = int(os.environ.get("SEAT_RANDOM_KEYS", "10"))
SEED = int(os.environ.get("SEAT_RANDOM_SEED", "20261124"))
AWAY = max(3, min(12, KEYS // 2))
"""Steps a walk may spend on a screen opened above its own before it is brought back."""

# The day after tests.conftest.NOW (the floor is built at NOW): before the morning window,
# inside the lunch rest and inside the night rest of the customers in Shanghai.
TIMES = {
    "09:00": datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo(FLOOR_ZONE)),
    "12:30": datetime(2026, 11, 24, 12, 30, tzinfo=ZoneInfo(FLOOR_ZONE)),
    "22:30": datetime(2026, 11, 24, 22, 30, tzinfo=ZoneInfo(FLOOR_ZONE)),
}
LANGUAGES = ("en", "zh_CN")

NAVIGATION = (
    "enter", "escape", "tab", "shift+tab", "up", "down", "left", "right", "home", "end",
    "pageup", "pagedown", "space", "backspace", "delete",
)  # fmt: skip
FKEYS = tuple(f"f{n}" for n in range(1, 13))
CTRL = ("ctrl+s", "ctrl+r", "ctrl+p", "ctrl+a", "ctrl+e", "ctrl+k", "ctrl+u", "ctrl+w",
        "ctrl+z", "ctrl+x", "ctrl+v", "ctrl+l", "ctrl+n", "ctrl+d", "ctrl+c")  # fmt: skip
NUMBERS = ("13800138000", "139 1234 5678", "+44 20 7946 0958", "+1 415 555 0134", "+2h",
           "1d", "30m", "0", "1", "2", "3", "4", "5", "9", "-1", "99999999999999999999",
           "12:30", "2026-11-25 10:00", "3.5")  # fmt: skip
CHINESE = ("洗衣机漏水", "张敏", "客户要求更换", "已经第三次了！", "物流", "满意", "不满意",
           "请在明天上午回电", "王芳")  # fmt: skip
JUNK = ("\x00", "\x07", "\x1b", "\x1b[2J", "\t", "\x7f", "'; DROP TABLE call; --", "%s{0}{x}",
        "\u202eevil", "👨‍👩‍👧", "❤️", "a" * 300, "\r\n", "\u200b", "\ufeff")  # fmt: skip
QUIT_ACTIONS = {"quit", "app.quit"}


@dataclass(frozen=True)
class Place:
    """A screen to walk: how to get there from the desk, and how to know the walk is on it."""

    screen: str  # the class name of the screen the walk stays on
    enter: Callable[[object], Awaitable[None]]
    roles: tuple[str, ...] = ("agent",)


async def _keys(pilot, *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


def _desk(pilot):
    return next(s for s in pilot.app.screen_stack if type(s).__name__ == "DeskScreen")


async def _post(pilot, message) -> None:
    _desk(pilot).post_message(message)
    await settle(pilot)


async def _known_call(pilot) -> None:
    await _keys(pilot, "n", *"13800138000", "enter")


async def _unknown_call(pilot) -> None:
    await _keys(pilot, "n", *"13700001111", "enter")


async def _unknown_call_f4(pilot) -> None:
    await _unknown_call(pilot)
    if type(pilot.app.screen).__name__ == "NewCustomerScreen":
        await _keys(pilot, "escape")
    await _keys(pilot, "f4")


def _then(first: Callable[[object], Awaitable[None]], *keys: str):
    async def go(pilot) -> None:
        await first(pilot)
        await _keys(pilot, *keys)

    return go


async def _nothing(pilot) -> None:
    await settle(pilot)


def _message(make: Callable[[dict[str, int]], object]):
    async def go(pilot) -> None:
        await _post(pilot, make(pilot.app._floor))

    return go


PLACES = {
    "desk": Place("DeskScreen", _nothing),
    "call known caller": Place("CallScreen", _known_call),
    "call unknown caller": Place("CallScreen", _unknown_call),
    "callback call": Place(
        "CallScreen", _message(lambda f: Sidebar.CallbackChosen(f["amy_callback"], f["amy"]))
    ),
    "complaint list": Place("ComplaintListScreen", _then(_nothing, "c")),
    "complaint case": Place(
        "ComplaintScreen",
        _message(lambda f: Sidebar.ComplaintChosen(f["complaint2"])),
        roles=("agent", "supervisor"),
    ),
    "closed cases": Place(
        "ClosedCasesScreen", _then(_nothing, "c", "h"), roles=("agent", "supervisor")
    ),
    "case library": Place(
        "CaseLibraryScreen",
        _then(_message(lambda f: Sidebar.ComplaintChosen(f["complaint2"])), "h"),
    ),
    "work order list": Place(
        "WorkOrderListScreen", _then(_nothing, "w"), roles=("agent", "supervisor")
    ),
    "work order": Place(
        "WorkOrderScreen",
        _message(lambda f: Sidebar.WorkOrderChosen(2)),
        roles=("agent", "supervisor"),
    ),
    "callbacks view": Place("CallbacksScreen", _then(_nothing, "b")),
    "wallboard": Place("WallboardScreen", _then(_nothing, "v"), roles=("supervisor",)),
    "trends": Place("StatisticsScreen", _then(_nothing, "g")),
    "statistics": Place("ComplaintStatsScreen", _then(_nothing, "t")),
    "work plan": Place("WorkPlanScreen", _then(_nothing, "p")),
    "find customer": Place("FindCustomerScreen", _then(_nothing, "f")),
    "callback form F5": Place("CallbackForm", _then(_known_call, "f2", "f5")),
    "work order form F6": Place("WorkOrderForm", _then(_known_call, "f6")),
    "complaint form F7": Place("ComplaintForm", _then(_known_call, "f7")),
    "new customer form F4": Place("NewCustomerScreen", _unknown_call_f4),
    "customer edit F9": Place("CustomerEditScreen", _then(_known_call, "f9")),
    "quality spot-checks": Place("QualityScreen", _then(_nothing, "e"), roles=("supervisor",)),
    "my quality scores": Place("MyQualityScreen", _then(_nothing, "e")),
}


def _binding_keys(app) -> list[str]:
    """The keys the current screen answers to now (its bindings and the focused widget's)."""
    keys = []
    for key, active in app.screen.active_bindings.items():
        if active.binding.action not in QUIT_ACTIONS and key != "ctrl+q":
            keys.append(key)
    return keys


def _step(rng: random.Random, app) -> tuple[str, str]:
    """One random step: ("key", name), ("type", text) or ("paste", text)."""
    roll = rng.random()
    if roll < 0.30:
        bound = _binding_keys(app)
        if bound:
            return "key", rng.choice(bound)
    if roll < 0.40:
        return "key", rng.choice(FKEYS)
    if roll < 0.65:
        return "key", rng.choice(NAVIGATION)
    if roll < 0.75:
        return "type", rng.choice(NUMBERS)
    if roll < 0.83:
        return "type", rng.choice(CHINESE)
    if roll < 0.88:
        return "key", rng.choice(CTRL)
    if roll < 0.93:
        return "type", "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ,.-/") for __ in range(4))
    junk = rng.choice(JUNK)
    # Long junk comes as a paste (typing 300 keys costs as much as a screen's whole walk).
    return ("paste" if roll < 0.97 or len(junk) > 12 else "type"), junk


async def _do(pilot, step: tuple[str, str]) -> None:
    kind, value = step
    if kind == "key":
        await pilot.press(value)
    elif kind == "type":
        # Control characters become the ctrl+ keys a terminal sends for them.
        await pilot.press(*[c for c in value if c not in "\r"])
    else:
        pilot.app.post_message(events.Paste(value))
        await pilot.pause()


def _where(app, name: str) -> int | None:
    """The index of the walk's screen in the stack, None if it is gone."""
    for i, screen in enumerate(app.screen_stack):
        if type(screen).__name__ == name:
            return i
    return None


async def _back_to(pilot, index: int) -> None:
    """Close the screens opened above the walk's own (forms, dialogs, the palette)."""
    app = pilot.app
    while len(app.screen_stack) > index + 1:
        await app.pop_screen()
        await pilot.pause()
    await settle(pilot)


def _failure(seed: str, place: str, log: list[str], steps: list, why: str) -> str:
    shown = "\n".join(f"  {i:4d} {kind} {value!r}" for i, (kind, value) in enumerate(steps))
    before = "; ".join(log) or "none"
    return (
        f"random walk {seed!r} on {place!r} failed: {why}\n"
        f"places walked before (same seed, in this order): {before}\nsteps on {place!r}:\n{shown}"
    )


def _crashed(app) -> str | None:
    if app._exception is not None:
        exc = app._exception
        return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if not app.is_running:
        return "the app stopped running"
    return None


async def _walk(pilot, rng: random.Random, seed: str, name: str, log: list[str]) -> None:
    """KEYS random steps on one place (re-entered when a key leaves it); fails with the seed
    and every step taken there when the seat crashes or loses its desk."""
    app = pilot.app
    place = PLACES[name]
    steps: list[tuple[str, str]] = []
    await _back_to(pilot, 1)
    await place.enter(pilot)
    if why := _crashed(app):
        pytest.fail(_failure(seed, name, log, steps, why), pytrace=False)
    assert _where(app, place.screen) is not None, f"{name}: the walk never got there"
    on_place = away = 0
    budget = KEYS * 6 + 20  # re-entering and coming back cost steps too
    while on_place < KEYS and budget > 0:
        budget -= 1
        index = _where(app, place.screen)
        if index is None:
            steps.append(("enter", name))
            await _back_to(pilot, 1)
            await place.enter(pilot)
            away = 0
        elif index < len(app.screen_stack) - 1:
            away += 1
            if away > AWAY:
                steps.append(("back", place.screen))
                await _back_to(pilot, index)
                away = 0
        else:
            away = 0
            on_place += 1
        step = _step(rng, app)
        steps.append(step)
        await _do(pilot, step)
        if why := _crashed(app):
            pytest.fail(_failure(seed, name, log, steps, why), pytrace=False)
        if _where(app, "DeskScreen") != 1:
            pytest.fail(_failure(seed, name, log, steps, "the desk went away"), pytrace=False)
    await settle(pilot)
    if why := _crashed(app):
        pytest.fail(_failure(seed, name, log, steps, why), pytrace=False)
    assert on_place >= KEYS // 2, _failure(
        seed, name, log, steps, f"only {on_place} steps on the screen itself"
    )
    log.append(f"{name}: {len(steps)} steps")


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("at", list(TIMES))
@pytest.mark.parametrize("role", ["agent", "supervisor"])
async def test_random_keys(role, at, lang, settings, engine, tmp_path, monkeypatch):
    """One seat per role, clock time and language walks each of its places in turn."""
    monkeypatch.chdir(tmp_path)  # a screenshot from the palette lands here, not in the tree
    ids = floor(engine)
    from sqlmodel import Session, select

    from seat.app import make_app
    from seat.models import Callback

    with Session(engine) as s:
        ids["amy_callback"] = s.exec(
            select(Callback.id).where(Callback.customer_id == ids["amy"])
        ).first()
    since = high_water(engine)
    i18n.set_language(lang)
    app = make_app(
        settings=settings,
        clock=FixedClock(TIMES[at]),
        agent="zhao.lei" if role == "supervisor" else "li.na",
        engine=engine,
    )
    app._floor = ids
    quits: list[str] = []
    app.action_quit = lambda: quits.append("quit")  # a walk never ends the seat
    app.action_screenshot = lambda *a, **k: None  # nor writes files
    seed = f"{SEED}:{role}:{at}:{lang}"
    rng = random.Random(seed)
    log: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for name, place in PLACES.items():
            if role in place.roles:
                await _walk(pilot, rng, seed, name, log)
    problems = integrity_problems(engine, since)
    assert not problems, f"random walk {seed!r} ({'; '.join(log)}): {'; '.join(problems)}"
