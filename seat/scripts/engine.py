"""Load and walk call scripts (data/scripts/*.toml). Pure Python, no Textual.

A script is a graph of stages. Each stage belongs to one of the four phases of a
call (greeting, discovery, resolution, closing), shows the words to say, a
checklist and fields to capture, and names the next stage, either plainly or
through branches on a captured field. A file with any error is rejected whole,
with a message naming the file and the problem.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PHASES = ("greeting", "discovery", "resolution", "closing")
FIELD_TYPES = ("text", "choice", "score")
MAX_FILE_BYTES = 256 * 1024

_SCRIPT_KEYS = {"id", "title", "language", "kind", "description"}
_STAGE_KEYS = {"id", "phase", "title", "say", "checklist", "fields", "next", "branches"}
_FIELD_KEYS = {"id", "label", "type", "choices", "required", "help"}
_BRANCH_KEYS = {"field", "equals", "in", "goto"}
_ID = re.compile(r"^[a-z][a-z0-9_]{0,40}\Z")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# Shown on the call screen: an ESC sequence in a script would drive the agent's terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class ScriptError(ValueError):
    """A script file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Field:
    id: str
    label: str
    type: str = "text"
    choices: tuple[str, ...] = ()
    required: bool = False
    help: str = ""


@dataclass(frozen=True)
class Branch:
    field: str
    values: tuple[str, ...]
    goto: str


@dataclass(frozen=True)
class Stage:
    id: str
    phase: str
    title: str
    say: str
    checklist: tuple[str, ...]
    fields: tuple[Field, ...]
    next: str | None
    branches: tuple[Branch, ...]


@dataclass(frozen=True)
class Script:
    id: str
    title: str
    language: str
    kind: str
    stages: tuple[Stage, ...]
    source: str = ""

    @property
    def first(self) -> Stage:
        return self.stages[0]

    def stage(self, stage_id: str) -> Stage:
        for s in self.stages:
            if s.id == stage_id:
                return s
        raise KeyError(stage_id)

    def next_stage(self, stage: Stage, values: Mapping[str, str]) -> Stage | None:
        """Where the script goes after `stage` given the captured values (None: the end)."""
        for br in stage.branches:
            if str(values.get(br.field, "")).strip() in br.values:
                return self.stage(br.goto)
        return self.stage(stage.next) if stage.next else None

    def missing_required(self, stage: Stage, values: Mapping[str, str]) -> list[Field]:
        return [f for f in stage.fields if f.required and not str(values.get(f.id, "")).strip()]

    def invalid_values(self, stage: Stage, values: Mapping[str, str]) -> dict[str, str]:
        """Messages for captured values that break a field's type."""
        problems: dict[str, str] = {}
        for f in stage.fields:
            v = str(values.get(f.id, "")).strip()
            if not v:
                continue
            if f.type == "choice" and v not in f.choices:
                problems[f.id] = f"{f.label}: choose one of {', '.join(f.choices)}."
            if f.type == "score" and v not in {"1", "2", "3", "4", "5"}:
                problems[f.id] = f"{f.label}: a score from 1 to 5."
        return problems

    @property
    def field_ids(self) -> set[str]:
        return {f.id for s in self.stages for f in s.fields}


def render(text: str, context: Mapping[str, str]) -> str:
    """Fill {customer}, {agent}, {company}... Unknown placeholders stay as written."""
    return _PLACEHOLDER.sub(lambda m: str(context.get(m.group(1), m.group(0))), text)


def load_script(path: Path) -> Script:
    """Read and check one script file; raises ScriptError naming the file."""
    name = path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ScriptError(f"{name}: cannot read the file ({exc.strerror}).") from None
    if size > MAX_FILE_BYTES:
        raise ScriptError(f"{name}: file is too large ({size} bytes; at most {MAX_FILE_BYTES}).")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise ScriptError(f"{name}: not UTF-8 text.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScriptError(f"{name}: not valid TOML ({exc}).") from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise ScriptError(f"{name}: nested too deeply to be a call script.") from None
    except OSError as exc:  # e.g. a folder named *.toml
        raise ScriptError(f"{name}: cannot read the file ({exc.strerror}).") from None
    try:
        return _build(raw, source=name)
    except ScriptError as exc:
        raise ScriptError(f"{name}: {exc}") from None


def load_scripts(directory: Path) -> tuple[dict[str, Script], list[str]]:
    """All good scripts in a directory by id, and a message for each rejected file."""
    scripts: dict[str, Script] = {}
    problems: list[str] = []
    for path in sorted(directory.glob("*.toml")):
        try:
            script = load_script(path)
        except ScriptError as exc:
            problems.append(str(exc))
            continue
        if script.id in scripts:
            problems.append(f"{path.name}: script id '{script.id}' is used by another file.")
            continue
        scripts[script.id] = script
    return scripts, problems


def _unknown(where: str, given: Mapping[str, object], allowed: set[str]) -> None:
    extra = sorted(set(given) - allowed)
    if extra:
        raise ScriptError(f"{where}: unknown field(s) {', '.join(extra)}.")


def _text(where: str, table: Mapping[str, object], key: str, *, required: bool = True) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise ScriptError(f"{where}: '{key}' must be text.")
    if required and not value.strip():
        raise ScriptError(f"{where}: '{key}' is missing.")
    if _CONTROL.search(value):
        raise ScriptError(f"{where}: '{key}' contains control characters.")
    return value


def _build(raw: Mapping[str, object], *, source: str) -> Script:
    _unknown("top level", raw, {"script", "stages"})
    head = raw.get("script")
    if not isinstance(head, dict):
        raise ScriptError("the [script] table is missing.")
    _unknown("[script]", head, _SCRIPT_KEYS)
    sid = _text("[script]", head, "id")
    if not _ID.match(sid):
        raise ScriptError(f"[script]: id '{sid}' must be lower-case letters, digits and _.")
    kind = head.get("kind", "inbound")
    if kind not in ("inbound", "callback"):
        raise ScriptError("[script]: kind must be 'inbound' or 'callback'.")
    stages_raw = raw.get("stages")
    if not isinstance(stages_raw, list) or not stages_raw:
        raise ScriptError("no [[stages]]: a script needs at least one stage.")
    stages = tuple(_stage(i, s) for i, s in enumerate(stages_raw, start=1))
    _check_graph(stages)
    return Script(
        id=sid,
        title=_text("[script]", head, "title"),
        language=str(head.get("language", "en")),
        kind=str(kind),
        stages=stages,
        source=source,
    )


def _stage(index: int, raw: object) -> Stage:
    where = f"stage {index}"
    if not isinstance(raw, dict):
        raise ScriptError(f"{where}: must be a table.")
    stage_id = _text(where, raw, "id")
    where = f"stage '{stage_id}'"
    _unknown(where, raw, _STAGE_KEYS)
    if not _ID.match(stage_id):
        raise ScriptError(f"{where}: id must be lower-case letters, digits and _.")
    phase = _text(where, raw, "phase")
    if phase not in PHASES:
        raise ScriptError(f"{where}: phase must be one of {', '.join(PHASES)}.")
    checklist = raw.get("checklist", [])
    if not isinstance(checklist, list) or not all(isinstance(c, str) for c in checklist):
        raise ScriptError(f"{where}: checklist must be a list of text.")
    if any(_CONTROL.search(c) for c in checklist):
        raise ScriptError(f"{where}: a checklist item contains control characters.")
    fields_raw = raw.get("fields", [])
    if not isinstance(fields_raw, list):
        raise ScriptError(f"{where}: fields must be a list of tables.")
    fields = tuple(_field(where, f) for f in fields_raw)
    ids = [f.id for f in fields]
    if len(ids) != len(set(ids)):
        raise ScriptError(f"{where}: a field id is used twice.")
    branches_raw = raw.get("branches", [])
    if not isinstance(branches_raw, list):
        raise ScriptError(f"{where}: branches must be a list of tables.")
    branches = tuple(_branch(where, b, set(ids)) for b in branches_raw)
    nxt = raw.get("next")
    if nxt is not None and not isinstance(nxt, str):
        raise ScriptError(f"{where}: 'next' must be a stage id.")
    return Stage(
        id=stage_id,
        phase=phase,
        title=_text(where, raw, "title"),
        say=_text(where, raw, "say", required=False),
        checklist=tuple(checklist),
        fields=fields,
        next=nxt or None,
        branches=branches,
    )


def _field(where: str, raw: object) -> Field:
    if not isinstance(raw, dict):
        raise ScriptError(f"{where}: each field must be a table.")
    _unknown(f"{where} field", raw, _FIELD_KEYS)
    fid = _text(f"{where} field", raw, "id")
    if not _ID.match(fid):
        raise ScriptError(f"{where}: field id '{fid}' must be lower-case letters, digits and _.")
    ftype = raw.get("type", "text")
    if ftype not in FIELD_TYPES:
        raise ScriptError(f"{where}: field '{fid}' type must be one of {', '.join(FIELD_TYPES)}.")
    choices = raw.get("choices", [])
    if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
        raise ScriptError(f"{where}: field '{fid}' choices must be a list of text.")
    if any(_CONTROL.search(c) for c in choices):
        raise ScriptError(f"{where}: a choice of field '{fid}' contains control characters.")
    if ftype == "choice" and not choices:
        raise ScriptError(f"{where}: choice field '{fid}' has no choices.")
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise ScriptError(f"{where}: field '{fid}' required must be true or false.")
    return Field(
        id=fid,
        label=_text(f"{where} field '{fid}'", raw, "label"),
        type=str(ftype),
        choices=tuple(choices),
        required=required,
        help=_text(f"{where} field '{fid}'", raw, "help", required=False),
    )


def _branch(where: str, raw: object, field_ids: set[str]) -> Branch:
    if not isinstance(raw, dict):
        raise ScriptError(f"{where}: each branch must be a table.")
    _unknown(f"{where} branch", raw, _BRANCH_KEYS)
    fld = _text(f"{where} branch", raw, "field")
    if fld not in field_ids:
        raise ScriptError(f"{where}: branch on '{fld}', which is not a field of this stage.")
    if "equals" in raw:
        values: tuple[str, ...] = (str(raw["equals"]),)
    elif isinstance(raw.get("in"), list):
        values = tuple(str(v) for v in raw["in"])
    else:
        raise ScriptError(f"{where}: a branch needs 'equals' or 'in'.")
    return Branch(field=fld, values=values, goto=_text(f"{where} branch", raw, "goto"))


def _check_graph(stages: tuple[Stage, ...]) -> None:
    ids = [s.id for s in stages]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise ScriptError(f"stage id used twice: {', '.join(sorted(dup))}.")
    known = set(ids)
    edges: dict[str, list[str]] = {}
    for s in stages:
        targets = [b.goto for b in s.branches] + ([s.next] if s.next else [])
        for t in targets:
            if t not in known:
                raise ScriptError(f"stage '{s.id}' goes to unknown stage '{t}'.")
        edges[s.id] = targets
    # Scripts move forward only: a loop would trap the agent. Depth-first search with an
    # explicit stack: a long (but allowed) file must not hit the recursion limit.
    state: dict[str, int] = {stages[0].id: 1}
    path = [stages[0].id]
    stack = [iter(edges[stages[0].id])]
    while stack:
        for t in stack[-1]:
            if state.get(t) == 1:
                cycle = path[path.index(t) :]
                raise ScriptError(f"loop in branches: {' -> '.join([*cycle, t])}.")
            if t not in state:
                state[t] = 1
                path.append(t)
                stack.append(iter(edges[t]))
                break
        else:
            stack.pop()
            state[path.pop()] = 2
    unreachable = [s.id for s in stages if s.id not in state]
    if unreachable:
        raise ScriptError(f"stage(s) never reached: {', '.join(unreachable)}.")
    # Phases never go backwards along any path.
    order = {p: i for i, p in enumerate(PHASES)}
    by_id = {s.id: s for s in stages}
    for s in stages:
        for t in edges[s.id]:
            if order[by_id[t].phase] < order[s.phase]:
                raise ScriptError(
                    f"stage '{s.id}' ({s.phase}) goes back to '{t}' ({by_id[t].phase})."
                )
    missing = [p for p in PHASES if p not in {s.phase for s in stages}]
    if missing:
        raise ScriptError(f"no stage for phase(s): {', '.join(missing)}.")
    # Every path must end in the closing phase.
    for s in stages:
        if not edges[s.id] and s.phase != "closing":
            raise ScriptError(f"stage '{s.id}' ends the script outside the closing phase.")


def load_with_fallback(
    directory: Path, cache: Path | None
) -> tuple[dict[str, Script], list[str]]:
    """Load the scripts; a rejected file falls back to its last good copy in `cache`.

    Every file that loads is copied to the cache, so the next broken edit of it can fall
    back. The messages name each rejected file and say which copy is used instead.
    """
    scripts: dict[str, Script] = {}
    problems: list[str] = []
    good, rejected = load_scripts(directory)
    by_file = {s.source: s for s in good.values()}
    for path in sorted(directory.glob("*.toml")):
        script = by_file.get(path.name)
        if script is not None:
            scripts[script.id] = script
            if cache is not None:
                _remember(path, cache)
            continue
        message = next((p for p in rejected if p.startswith(f"{path.name}:")), path.name)
        fallback = _last_good(path.name, cache)
        if fallback is not None and fallback.id not in scripts:
            scripts[fallback.id] = fallback
            message += " Using the last good copy of this script."
        problems.append(message)
    return scripts, problems


def _remember(path: Path, cache: Path) -> None:
    try:
        cache.mkdir(parents=True, exist_ok=True)
        target = cache / path.name
        data = path.read_bytes()
        if not target.is_file() or target.read_bytes() != data:
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(target)
    except OSError:
        pass  # the cache is a convenience; a read-only home must not stop the seat


def _last_good(name: str, cache: Path | None) -> Script | None:
    if cache is None or not (cache / name).is_file():
        return None
    try:
        return load_script(cache / name)
    except ScriptError:
        return None
