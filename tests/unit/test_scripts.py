"""The call-script engine: shipped scripts, walking branches, checks on broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from seat.callbacks import DEFAULT_SCRIPTS
from seat.config import DATA_DIR
from seat.scripts import PHASES, Script, ScriptError, load_script, load_scripts, render
from seat.scripts.engine import MAX_FILE_BYTES

SCRIPTS_DIR = DATA_DIR / "scripts"


@pytest.fixture(scope="module")
def shipped() -> dict[str, Script]:
    scripts, problems = load_scripts(SCRIPTS_DIR)
    assert problems == []
    return scripts


def _walk(script: Script, answers: dict[str, str]) -> list[str]:
    """Stage ids from the first stage to the end, given the captured answers."""
    stage = script.first
    path = [stage.id]
    while (stage := script.next_stage(stage, answers)) is not None:
        path.append(stage.id)
        assert len(path) <= len(script.stages)
    return path


# -- the shipped scripts ------------------------------------------------------------------


def test_shipped_scripts_load_without_problems(shipped):
    assert set(shipped) == {"inbound", *dict(DEFAULT_SCRIPTS).values()}
    assert shipped["inbound"].kind == "inbound"
    assert shipped["callback"].kind == "callback"
    for script in shipped.values():
        assert script.source == f"{script.id}.toml"
        assert {s.phase for s in script.stages} == set(PHASES)
        assert script.first.phase == "greeting"


@pytest.mark.parametrize("path", sorted(SCRIPTS_DIR.glob("*.toml")), ids=lambda p: p.name)
def test_each_shipped_file_loads(path):
    script = load_script(path)
    assert script.stages
    assert all(s.title and s.say for s in script.stages)


def test_inbound_walks_the_four_phases(shipped):
    script = shipped["inbound"]
    path = _walk(script, {"need_category": "repair"})
    assert path == ["greeting", "discovery", "resolution", "closing"]
    assert [script.stage(s).phase for s in path] == list(PHASES)
    assert script.next_stage(script.stage("closing"), {}) is None  # then wrap-up


@pytest.mark.parametrize(
    ("answer", "path"),
    [
        ("satisfied", ["opening", "satisfaction", "suggestions", "close_satisfied"]),
        ("so-so", ["opening", "satisfaction", "improve", "close_unsatisfied"]),
        ("unsatisfied", ["opening", "satisfaction", "improve", "close_unsatisfied"]),
        (" unsatisfied ", ["opening", "satisfaction", "improve", "close_unsatisfied"]),
    ],
)
def test_callback_branches_on_satisfaction(shipped, answer, path):
    script = shipped["callback"]
    assert _walk(script, {"satisfied": answer, "score": "3"}) == path
    assert script.stage(path[-1]).phase == "closing"


def test_required_fields_block(shipped):
    script = shipped["inbound"]
    discovery = script.stage("discovery")
    assert [f.id for f in script.missing_required(discovery, {})] == ["need_category"]
    assert [f.id for f in script.missing_required(discovery, {"need_category": "  "})] == [
        "need_category"
    ]
    assert script.missing_required(discovery, {"need_category": "inquiry"}) == []
    # Optional text fields never block.
    assert script.missing_required(script.stage("greeting"), {}) == []


def test_required_fields_of_the_callback(shipped):
    script = shipped["callback"]
    missing = script.missing_required(script.stage("satisfaction"), {"satisfied": "satisfied"})
    assert [f.id for f in missing] == ["score"]
    assert [f.id for f in script.missing_required(script.stage("improve"), {})] == ["improvement"]
    assert script.missing_required(script.stage("suggestions"), {}) == []


@pytest.mark.parametrize(
    ("values", "bad"),
    [
        ({"satisfied": "satisfied", "score": "5"}, set()),
        ({"satisfied": "so-so", "score": "1"}, set()),
        ({"satisfied": "happy", "score": "5"}, {"satisfied"}),
        ({"satisfied": "Satisfied", "score": "5"}, {"satisfied"}),
        ({"satisfied": "satisfied", "score": "0"}, {"score"}),
        ({"satisfied": "satisfied", "score": "6"}, {"score"}),
        ({"satisfied": "satisfied", "score": "4.5"}, {"score"}),
        ({"satisfied": "satisfied", "score": "five"}, {"score"}),
        ({"satisfied": "meh", "score": "10"}, {"satisfied", "score"}),
        ({}, set()),  # empty values are the business of missing_required
    ],
)
def test_invalid_choice_and_score_values(shipped, values, bad):
    script = shipped["callback"]
    problems = script.invalid_values(script.stage("satisfaction"), values)
    assert set(problems) == bad
    if "satisfied" in bad:
        assert "satisfied, so-so, unsatisfied" in problems["satisfied"]
    if "score" in bad:
        assert "1 to 5" in problems["score"]


@pytest.mark.parametrize(
    ("text", "context", "expected"),
    [
        ("Hello {customer}", {"customer": "Ms Wang"}, "Hello Ms Wang"),
        (
            "This is {agent} from {company}.",
            {"agent": "Li Na", "company": "Seat Home"},
            "This is Li Na from Seat Home.",
        ),
        ("Hello {customer}, {unknown}", {"customer": "Tom"}, "Hello Tom, {unknown}"),
        ("{customer} and {customer}", {"customer": "A"}, "A and A"),
        ("No placeholders.", {"customer": "A"}, "No placeholders."),
        ("Braces {Not_lower} {123} {}", {}, "Braces {Not_lower} {123} {}"),
        ("Calling about {reason}", {"reason": "{customer}"}, "Calling about {customer}"),
    ],
)
def test_render(text, context, expected):
    assert render(text, context) == expected


def test_render_the_shipped_greeting(shipped):
    say = shipped["inbound"].stage("greeting").say
    out = render(say, {"company": "Seat Home", "agent": "Li Na", "customer": "Ms Wang"})
    assert "Seat Home" in out and "Li Na" in out and "Ms Wang" in out
    assert "{" not in out


# -- broken files -----------------------------------------------------------------------

HEAD = """
[script]
id = "broken"
title = "Broken"
kind = "inbound"
"""


def _stage(sid: str, phase: str, nxt: str | None = None, extra: str = "") -> str:
    text = f'\n[[stages]]\nid = "{sid}"\nphase = "{phase}"\ntitle = "{sid.title()}"\n'
    if nxt:
        text += f'next = "{nxt}"\n'
    return text + extra


GOOD_BODY = (
    _stage("greeting", "greeting", "discovery")
    + _stage("discovery", "discovery", "resolution")
    + _stage("resolution", "resolution", "closing")
    + _stage("closing", "closing")
)

CHOICE_FIELD = """
  [[stages.fields]]
  id = "answer"
  label = "Answer"
  type = "choice"
  choices = ["yes", "no"]
"""

BROKEN: dict[str, tuple[str, str]] = {
    # name: (file text, words the message must contain)
    "invalid_toml": (HEAD + 'id = "oops\n' + GOOD_BODY, "not valid TOML"),
    "missing_script": (GOOD_BODY, "[script] table is missing"),
    "script_not_a_table": ('script = "inbound"\n' + GOOD_BODY, "[script] table is missing"),
    "unknown_top_field": ('colour = "red"\n' + HEAD + GOOD_BODY, "unknown field colour"),
    "unknown_script_field": (HEAD + 'author = "me"\n' + GOOD_BODY, "unknown field author"),
    "unknown_stage_field": (
        HEAD + GOOD_BODY + "timeout = 5\n",
        "stage 'closing': unknown field timeout",
    ),
    "unknown_field_key": (
        HEAD
        + _stage("greeting", "greeting", "discovery", CHOICE_FIELD + "  colour = 1\n")
        + _stage("discovery", "discovery", "resolution")
        + _stage("resolution", "resolution", "closing")
        + _stage("closing", "closing"),
        "stage 'greeting' field: unknown field colour",
    ),
    "missing_stages": (HEAD, "no [[stages]]"),
    "empty_stages": ("stages = []\n" + HEAD, "no [[stages]]"),
    "missing_id": (HEAD.replace('id = "broken"\n', ""), "'id' is missing"),
    "bad_script_id": (HEAD.replace('"broken"', '"Broken Script"') + GOOD_BODY, "id 'Broken"),
    "bad_kind": (HEAD.replace('"inbound"', '"outbound"') + GOOD_BODY, "kind must be"),
    "bad_phase": (
        HEAD + GOOD_BODY.replace('phase = "resolution"', 'phase = "solving"'),
        "phase must be one of",
    ),
    "next_unknown_stage": (
        HEAD + GOOD_BODY.replace('next = "closing"', 'next = "closeing"'),
        "goes to unknown stage 'closeing'",
    ),
    "branch_to_unknown_stage": (
        HEAD
        + _stage(
            "greeting",
            "greeting",
            "discovery",
            CHOICE_FIELD + '\n  [[stages.branches]]\n  field = "answer"\n  equals = "no"\n'
            '  goto = "nowhere"\n',
        )
        + _stage("discovery", "discovery", "resolution")
        + _stage("resolution", "resolution", "closing")
        + _stage("closing", "closing"),
        "unknown stage 'nowhere'",
    ),
    "loop_via_next": (
        HEAD
        + _stage("greeting", "greeting", "discovery")
        + _stage("discovery", "discovery", "ask_more")
        + _stage("ask_more", "discovery", "discovery")
        + _stage("resolution", "resolution", "closing")
        + _stage("closing", "closing"),
        "loop in branches: discovery -> ask_more -> discovery.",
    ),
    "loop_via_branch": (
        HEAD
        + _stage("greeting", "greeting", "discovery")
        + _stage(
            "discovery",
            "discovery",
            "resolution",
            CHOICE_FIELD + '\n  [[stages.branches]]\n  field = "answer"\n  equals = "no"\n'
            '  goto = "discovery"\n',
        )
        + _stage("resolution", "resolution", "closing")
        + _stage("closing", "closing"),
        "loop in branches",
    ),
    "phase_backwards": (
        HEAD
        + _stage("greeting", "greeting", "discovery")
        + _stage("discovery", "discovery", "resolution")
        + _stage("resolution", "resolution", "closing")
        + _stage("closing", "closing", "again")
        + _stage("again", "discovery"),
        "stage 'closing' (closing) goes back to 'again' (discovery)",
    ),
    "no_closing": (
        HEAD
        + _stage("greeting", "greeting", "discovery")
        + _stage("discovery", "discovery", "resolution")
        + _stage("resolution", "resolution"),
        "no stage for phase: closing",
    ),
    "missing_discovery": (
        HEAD
        + _stage("greeting", "greeting", "resolution")
        + _stage("resolution", "resolution", "closing")
        + _stage("closing", "closing"),
        "no stage for phase: discovery",
    ),
    "ends_outside_closing": (
        HEAD
        + _stage("greeting", "greeting", "discovery")
        + _stage(
            "discovery",
            "discovery",
            "resolution",
            CHOICE_FIELD + '\n  [[stages.branches]]\n  field = "answer"\n  equals = "no"\n'
            '  goto = "dead_end"\n',
        )
        + _stage("dead_end", "resolution")
        + _stage("resolution", "resolution", "closing")
        + _stage("closing", "closing"),
        "stage 'dead_end' ends the script outside the closing phase",
    ),
    "unreachable_stage": (HEAD + GOOD_BODY + _stage("orphan", "closing"), "never reached: orphan"),
    "duplicate_stage_id": (
        HEAD + GOOD_BODY + _stage("resolution", "resolution", "closing"),
        "stage id used twice: resolution",
    ),
    "duplicate_field_id": (
        HEAD
        + _stage("greeting", "greeting", "discovery", CHOICE_FIELD + CHOICE_FIELD)
        + _stage("discovery", "discovery", "resolution")
        + _stage("resolution", "resolution", "closing")
        + _stage("closing", "closing"),
        "a field id is used twice",
    ),
    "branch_on_non_field": (
        HEAD
        + _stage(
            "greeting",
            "greeting",
            "discovery",
            '\n  [[stages.branches]]\n  field = "mood"\n  equals = "bad"\n  goto = "closing"\n',
        )
        + _stage("discovery", "discovery", "resolution")
        + _stage("resolution", "resolution", "closing")
        + _stage("closing", "closing"),
        "branch on 'mood', which is not a field of this stage",
    ),
    "branch_without_values": (
        HEAD
        + _stage(
            "greeting",
            "greeting",
            "discovery",
            CHOICE_FIELD + '\n  [[stages.branches]]\n  field = "answer"\n  goto = "closing"\n',
        )
        + _stage("discovery", "discovery", "resolution")
        + _stage("resolution", "resolution", "closing")
        + _stage("closing", "closing"),
        "a branch needs 'equals' or 'in'",
    ),
    "choice_without_choices": (
        HEAD
        + _stage(
            "greeting",
            "greeting",
            "discovery",
            '\n  [[stages.fields]]\n  id = "answer"\n  label = "Answer"\n  type = "choice"\n',
        )
        + _stage("discovery", "discovery", "resolution")
        + _stage("resolution", "resolution", "closing")
        + _stage("closing", "closing"),
        "choice field 'answer' has no choices",
    ),
    "bad_field_type": (
        HEAD
        + _stage(
            "greeting",
            "greeting",
            "discovery",
            '\n  [[stages.fields]]\n  id = "answer"\n  label = "Answer"\n  type = "date"\n',
        )
        + _stage("discovery", "discovery", "resolution")
        + _stage("resolution", "resolution", "closing")
        + _stage("closing", "closing"),
        "field 'answer' type must be one of text, choice, score",
    ),
    "required_not_bool": (
        HEAD
        + _stage(
            "greeting",
            "greeting",
            "discovery",
            '\n  [[stages.fields]]\n  id = "answer"\n  label = "Answer"\n  required = "yes"\n',
        )
        + _stage("discovery", "discovery", "resolution")
        + _stage("resolution", "resolution", "closing")
        + _stage("closing", "closing"),
        "required must be true or false",
    ),
    "stage_without_title": (
        HEAD + GOOD_BODY.replace('title = "Closing"\n', ""),
        "stage 'closing': 'title' is missing",
    ),
    "stage_id_with_newline": (
        HEAD + GOOD_BODY.replace('id = "closing"', 'id = "closing\\n"'),
        "stage 'closing\n': id must be lower-case",
    ),
    "next_not_text": (
        HEAD + GOOD_BODY.replace('next = "closing"', "next = 4"),
        "'next' must be a stage id",
    ),
}


def test_the_good_body_is_good(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(HEAD + GOOD_BODY, encoding="utf-8")
    script = load_script(path)
    assert [s.id for s in script.stages] == ["greeting", "discovery", "resolution", "closing"]


@pytest.mark.parametrize(("text", "words"), list(BROKEN.values()), ids=list(BROKEN))
def test_broken_files_are_rejected_naming_file_and_problem(tmp_path, text, words):
    path = tmp_path / "broken_one.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScriptError) as info:
        load_script(path)
    message = str(info.value)
    assert message.startswith("broken_one.toml: ")
    assert words in message


def test_oversized_file_is_rejected(tmp_path):
    path = tmp_path / "huge.toml"
    padding = "# " + "x" * 78 + "\n"
    path.write_text(HEAD + GOOD_BODY + padding * (MAX_FILE_BYTES // len(padding) + 1))
    assert path.stat().st_size > MAX_FILE_BYTES
    with pytest.raises(ScriptError) as info:
        load_script(path)
    assert str(info.value).startswith("huge.toml: file is too large")
    assert str(MAX_FILE_BYTES) in str(info.value)


def test_file_at_the_size_limit_is_read(tmp_path):
    path = tmp_path / "big.toml"
    body = HEAD + GOOD_BODY
    path.write_text(body + "#" * (MAX_FILE_BYTES - len(body.encode()) - 1) + "\n")
    assert path.stat().st_size == MAX_FILE_BYTES
    assert load_script(path).id == "broken"


def test_non_utf8_file_is_rejected(tmp_path):
    path = tmp_path / "gbk.toml"
    text = HEAD.replace('"Broken"', '"回访话术"') + GOOD_BODY
    path.write_bytes(text.encode("gbk"))
    with pytest.raises(ScriptError) as info:
        load_script(path)
    assert str(info.value) == "gbk.toml: not UTF-8 text."


def test_missing_file_is_a_script_error(tmp_path):
    with pytest.raises(ScriptError) as info:
        load_script(tmp_path / "nope.toml")
    assert str(info.value).startswith("nope.toml: cannot read the file")


def test_long_chain_of_stages_is_checked_without_recursion_error(tmp_path):
    """A big (but allowed) file must give a script or a ScriptError, never a crash."""
    n = 3000
    body = _stage("s0", "greeting", "s1")
    body += "".join(_stage(f"s{i}", "discovery", f"s{i + 1}") for i in range(1, n))
    body += _stage(f"s{n}", "resolution", "closing") + _stage("closing", "closing")
    path = tmp_path / "long.toml"
    path.write_text(HEAD + body)
    assert path.stat().st_size <= MAX_FILE_BYTES
    assert len(load_script(path).stages) == n + 2


def test_long_loop_is_reported(tmp_path):
    n = 3000
    body = _stage("s0", "greeting", "s1")
    body += "".join(_stage(f"s{i}", "discovery", f"s{i + 1}") for i in range(1, n))
    body += _stage(f"s{n}", "discovery", "s1") + _stage("closing", "closing")
    path = tmp_path / "long_loop.toml"
    path.write_text(HEAD + body)
    with pytest.raises(ScriptError) as info:
        load_script(path)
    assert "loop in branches" in str(info.value)


def test_load_scripts_keeps_good_files_and_reports_bad_ones(tmp_path):
    for path in SCRIPTS_DIR.glob("*.toml"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / "a_loop.toml").write_text(BROKEN["loop_via_next"][0])
    (tmp_path / "b_toml.toml").write_text(BROKEN["invalid_toml"][0])
    (tmp_path / "c_gbk.toml").write_bytes("标题 = 1".encode("gbk"))
    (tmp_path / "z_copy.toml").write_bytes((SCRIPTS_DIR / "inbound.toml").read_bytes())
    (tmp_path / "notes.txt").write_text("not a script")
    scripts, problems = load_scripts(tmp_path)
    assert set(scripts) == {"inbound", *dict(DEFAULT_SCRIPTS).values()}
    assert scripts["inbound"].source == "inbound.toml"  # the first file by name wins
    assert len(problems) == 4
    assert problems[0].startswith("a_loop.toml: ") and "loop in branches" in problems[0]
    assert problems[1].startswith("b_toml.toml: not valid TOML")
    assert problems[2] == "c_gbk.toml: not UTF-8 text."
    assert (
        problems[3].startswith("z_copy.toml: ")
        and "'inbound' is used by another file" in problems[3]
    )


def test_load_scripts_of_an_empty_directory(tmp_path: Path):
    assert load_scripts(tmp_path) == ({}, [])
