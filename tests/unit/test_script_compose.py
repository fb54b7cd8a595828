"""seat.scripts.compose: one script read from several, links and branches rewired so the
result walks every part and is valid as a script file would be."""

from __future__ import annotations

from dataclasses import replace

import pytest

from seat.scripts import ScriptError, check_script, compose, load_script

BRANCHING = """
[script]
id = "a"
title = "A"
kind = "callback"

[[stages]]
id = "opening"
phase = "greeting"
title = "Hello"
next = "ask"

[[stages]]
id = "ask"
phase = "discovery"
title = "Ask"
next = "offer"
branches = [{ field = "mood", equals = "busy", goto = "closing" }]

  [[stages.fields]]
  id = "mood"
  label = "Mood"
  type = "choice"
  choices = ["fine", "busy"]

[[stages]]
id = "offer"
phase = "resolution"
title = "Offer"
next = "closing"

[[stages]]
id = "closing"
phase = "closing"
title = "Bye"
"""

PLAIN = """
[script]
id = "b"
title = "B"
kind = "callback"

[[stages]]
id = "hello"
phase = "greeting"
title = "Hello B"
next = "ask"

[[stages]]
id = "ask"
phase = "discovery"
title = "Ask B"
next = "tell"

  [[stages.fields]]
  id = "mood"
  label = "Mood B"

[[stages]]
id = "tell"
phase = "resolution"
title = "Tell B"
next = "end"

[[stages]]
id = "end"
phase = "closing"
title = "Bye B"
"""


@pytest.fixture
def parts(tmp_path):
    out = []
    for name, text in (("a", BRANCHING), ("b", PLAIN)):
        path = tmp_path / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        out.append((name, load_script(path)))
    return out


def _walk(script, values):
    seen, stage = [], script.first
    while stage is not None:
        seen.append(stage.id)
        stage = script.next_stage(stage, values)
    return seen


def test_branches_and_links_are_rewired(parts):
    script = compose(parts, script_id="a+b", title="A · B")
    check_script(script)
    assert [(s.id, s.phase) for s in script.stages] == [
        ("opening", "greeting"),
        ("ask", "discovery"),
        ("offer", "resolution"),
        ("b_ask", "resolution"),  # after A's resolution: phases never go back
        ("tell", "resolution"),
        ("closing", "closing"),
    ]
    assert [f.id for s in script.stages for f in s.fields] == ["mood", "b_mood"]
    assert _walk(script, {}) == ["opening", "ask", "offer", "b_ask", "tell", "closing"]
    # A's "busy: straight to the end" now means: done with A, on to B.
    assert _walk(script, {"mood": "busy"}) == ["opening", "ask", "b_ask", "tell", "closing"]


def test_the_order_of_parts_is_the_reading_order(parts):
    script = compose(parts[::-1], script_id="b+a", title="B · A")
    assert [s.id for s in script.stages] == ["hello", "ask", "tell", "a_ask", "offer", "end"]
    assert script.stage("a_ask").phase == "resolution"
    assert script.stage("a_ask").branches[0].goto == "end"
    assert [f.id for f in script.stage("a_ask").fields] == ["a_mood"]
    assert script.stage("a_ask").branches[0].field == "a_mood"
    assert _walk(script, {"a_mood": "busy"}) == ["hello", "ask", "tell", "a_ask", "end"]


def test_a_composition_that_cannot_be_walked_is_refused(parts):
    with pytest.raises(ScriptError):
        compose([], script_id="none", title="none")
    name, b = parts[1]
    no_closing = replace(b, stages=tuple(s for s in b.stages if s.phase != "closing"))
    with pytest.raises(ScriptError, match="unknown stage"):
        compose([(name, no_closing), parts[0]], script_id="b+a", title="B · A")
