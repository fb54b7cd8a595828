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

from seat.i18n import _, ngettext

PHASES = ("greeting", "discovery", "resolution", "closing")
FIELD_TYPES = ("text", "choice", "score")
MAX_FILE_BYTES = 256 * 1024

_SCRIPT_KEYS = {"id", "title", "language", "kind", "description"}
_STAGE_KEYS = {
    "id", "phase", "title", "say", "checklist", "fields", "next", "branches", "complaint",
}  # fmt: skip
_FIELD_KEYS = {"id", "label", "type", "choices", "choice_labels", "required", "help"}
_BRANCH_KEYS = {"field", "equals", "in", "goto"}
_ID = re.compile(r"^[a-z][a-z0-9_]{0,40}\Z")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:_[A-Z]{2})?\Z")
BASE_LANGUAGE = "en"
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
    choice_labels: tuple[str, ...] = ()
    """What the agent sees for each choice (same order); the stored value stays the choice."""

    def choice_label(self, value: str) -> str:
        """The shown label of a choice value (the value itself when the script gives none)."""
        if value in self.choices and self.choice_labels:
            return self.choice_labels[self.choices.index(value)]
        return value


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
    complaint: str = ""
    """A text field of this stage: leaving the stage with it answered opens the complaint
    form, prefilled with what the customer said (an unsatisfied callback answer)."""


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
                shown = ", ".join(f.choice_label(c) for c in f.choices)
                problems[f.id] = _("{label}: choose one of {choices}.").format(
                    label=f.label, choices=shown
                )
            if f.type == "score" and v not in {"1", "2", "3", "4", "5"}:
                problems[f.id] = _("{label}: a score from 1 to 5.").format(label=f.label)
        return problems

    @property
    def field_ids(self) -> set[str]:
        return {f.id for s in self.stages for f in s.fields}

    @property
    def asks_score(self) -> bool:
        """Does any stage ask for a 1-5 score (only satisfaction measures do)?"""
        return any(f.type == "score" for s in self.stages for f in s.fields)


def render(text: str, context: Mapping[str, str]) -> str:
    """Fill {customer}, {agent}, {company}... Unknown placeholders stay as written."""
    return _PLACEHOLDER.sub(lambda m: str(context.get(m.group(1), m.group(0))), text)


def same_structure(a: Script, b: Script) -> list[str]:
    """How two language variants of a script differ in shape (empty: interchangeable).

    Variants must share stage ids and phases, field ids, types, choices and requiredness,
    and branches: a call, a draft or a report must not care which language was read.
    """
    diffs: list[str] = []
    if (a.id, a.kind) != (b.id, b.kind):
        diffs.append(f"id/kind {a.id}/{a.kind} vs {b.id}/{b.kind}")
    if [s.id for s in a.stages] != [s.id for s in b.stages]:
        diffs.append("stage ids differ")
        return diffs
    for sa, sb in zip(a.stages, b.stages, strict=True):
        shape_a = [(f.id, f.type, f.choices, f.required) for f in sa.fields]
        shape_b = [(f.id, f.type, f.choices, f.required) for f in sb.fields]
        if sa.phase != sb.phase:
            diffs.append(f"stage '{sa.id}': phase differs")
        if shape_a != shape_b:
            diffs.append(f"stage '{sa.id}': fields differ")
        if (sa.next, sa.branches) != (sb.next, sb.branches):
            diffs.append(f"stage '{sa.id}': next stage or branches differ")
        if sa.complaint != sb.complaint:
            diffs.append(f"stage '{sa.id}': complaint field differs")
    return diffs


class ScriptBook(dict[str, Script]):
    """Scripts by id (the English variant when there is one), plus every language variant.

    Keyed by id like a plain dict, so callers that never ask for a language keep working;
    `pick(id, language)` chooses the variant a call should read.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.variants: dict[tuple[str, str], Script] = {
            (s.id, s.language): s for s in self.values()
        }

    def add(self, script: Script) -> None:
        """Take a variant; the English one (else the first one seen) is the id's default."""
        self.variants[(script.id, script.language)] = script
        current = self.get(script.id)
        if current is None or (
            script.language == BASE_LANGUAGE and current.language != BASE_LANGUAGE
        ):
            self[script.id] = script

    def has(self, script_id: str, language: str) -> bool:
        return (script_id, language) in self.variants

    def languages(self, script_id: str) -> list[str]:
        return sorted(lang for sid, lang in self.variants if sid == script_id)

    def pick(self, script_id: str, language: str | None) -> Script:
        """The variant in `language` (zh_CN, else any zh), else the default; KeyError if none."""
        if language:
            exact = self.variants.get((script_id, language))
            if exact is not None:
                return exact
            base = language.split("_")[0]
            for (sid, lang), script in sorted(self.variants.items()):
                if sid == script_id and lang.split("_")[0] == base:
                    return script
        return self[script_id]


def pick(scripts: Mapping[str, Script], script_id: str, language: str | None) -> Script:
    """`ScriptBook.pick` for any mapping of scripts (a plain dict has no variants)."""
    if isinstance(scripts, ScriptBook):
        return scripts.pick(script_id, language)
    return scripts[script_id]


def load_script(path: Path) -> Script:
    """Read and check one script file; raises ScriptError naming the file."""
    name = path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ScriptError(
            f"{name}: " + _("cannot read the file ({reason}).").format(reason=exc.strerror)
        ) from None
    if size > MAX_FILE_BYTES:
        raise ScriptError(
            f"{name}: "
            + _("file is too large ({size} bytes; at most {limit}).").format(
                size=size, limit=MAX_FILE_BYTES
            )
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise ScriptError(f"{name}: " + _("not UTF-8 text.")) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScriptError(
            f"{name}: " + _("not valid TOML ({reason}).").format(reason=exc)
        ) from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise ScriptError(f"{name}: " + _("nested too deeply to be a call script.")) from None
    except OSError as exc:  # e.g. a folder named *.toml
        raise ScriptError(
            f"{name}: " + _("cannot read the file ({reason}).").format(reason=exc.strerror)
        ) from None
    try:
        return _build(raw, source=name)
    except ScriptError as exc:
        raise ScriptError(f"{name}: {exc}") from None


def load_scripts(directory: Path) -> tuple[ScriptBook, list[str]]:
    """All good scripts in a directory by id (with language variants), and each rejection.

    A variant whose stages, fields or branches differ from its id's default is rejected: the
    language a call is read in must not change what it records.
    """
    scripts = ScriptBook()
    problems: list[str] = []
    for path in sorted(directory.glob("*.toml")):
        try:
            script = load_script(path)
        except ScriptError as exc:
            problems.append(str(exc))
            continue
        problem = _clash(scripts, script)
        if problem:
            problems.append(f"{path.name}: {problem}")
            continue
        scripts.add(script)
    problems.extend(_check_variants(scripts))
    return scripts, problems


def _clash(scripts: ScriptBook, script: Script) -> str:
    if not scripts.has(script.id, script.language):
        return ""
    if script.language == BASE_LANGUAGE:
        return _("script id '{id}' is used by another file.").format(id=script.id)
    return _("script id '{id}' ({language}) is used by another file.").format(
        id=script.id, language=script.language
    )


def _check_variants(scripts: ScriptBook) -> list[str]:
    """Drop variants shaped unlike their id's default, with a message for each."""
    problems: list[str] = []
    for (sid, lang), variant in sorted(scripts.variants.items()):
        default = scripts[sid]
        if variant is default:
            continue
        diffs = same_structure(default, variant)
        if diffs:
            del scripts.variants[(sid, lang)]
            problems.append(
                f"{variant.source}: "
                + _("does not match {other}: {diffs}.").format(
                    other=default.source, diffs="; ".join(diffs)
                )
            )
    return problems


def _unknown(where: str, given: Mapping[str, object], allowed: set[str]) -> None:
    extra = sorted(set(given) - allowed)
    if extra:
        raise ScriptError(
            ngettext(
                "{where}: unknown field {names}.", "{where}: unknown fields {names}.", len(extra)
            ).format(where=where, names=", ".join(extra))
        )


def _text(where: str, table: Mapping[str, object], key: str, *, required: bool = True) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise ScriptError(_("{where}: '{key}' must be text.").format(where=where, key=key))
    if required and not value.strip():
        raise ScriptError(_("{where}: '{key}' is missing.").format(where=where, key=key))
    if _CONTROL.search(value):
        raise ScriptError(
            _("{where}: '{key}' contains control characters.").format(where=where, key=key)
        )
    return value


def _build(raw: Mapping[str, object], *, source: str) -> Script:
    _unknown(_("top level"), raw, {"script", "stages"})
    head = raw.get("script")
    if not isinstance(head, dict):
        raise ScriptError(_("the [script] table is missing."))
    _unknown("[script]", head, _SCRIPT_KEYS)
    sid = _text("[script]", head, "id")
    if not _ID.match(sid):
        raise ScriptError(
            _("[script]: id '{id}' must be lower-case letters, digits and _.").format(id=sid)
        )
    kind = head.get("kind", "inbound")
    if kind not in ("inbound", "callback"):
        raise ScriptError(_("[script]: kind must be 'inbound' or 'callback'."))
    language = head.get("language", BASE_LANGUAGE)
    if not isinstance(language, str) or not _LANGUAGE.match(language):
        raise ScriptError(_("[script]: language must be a code such as en or zh_CN."))
    stages_raw = raw.get("stages")
    if not isinstance(stages_raw, list) or not stages_raw:
        raise ScriptError(_("no [[stages]]: a script needs at least one stage."))
    stages = tuple(_stage(i, s) for i, s in enumerate(stages_raw, start=1))
    _check_graph(stages)
    return Script(
        id=sid,
        title=_text("[script]", head, "title"),
        language=language,
        kind=str(kind),
        stages=stages,
        source=source,
    )


def _stage(index: int, raw: object) -> Stage:
    where = _("stage {n}").format(n=index)
    if not isinstance(raw, dict):
        raise ScriptError(_("{where}: must be a table.").format(where=where))
    stage_id = _text(where, raw, "id")
    where = _("stage '{id}'").format(id=stage_id)
    _unknown(where, raw, _STAGE_KEYS)
    if not _ID.match(stage_id):
        raise ScriptError(
            _("{where}: id must be lower-case letters, digits and _.").format(where=where)
        )
    phase = _text(where, raw, "phase")
    if phase not in PHASES:
        raise ScriptError(
            _("{where}: phase must be one of {phases}.").format(
                where=where, phases=", ".join(PHASES)
            )
        )
    checklist = raw.get("checklist", [])
    if not isinstance(checklist, list) or not all(isinstance(c, str) for c in checklist):
        raise ScriptError(_("{where}: checklist must be a list of text.").format(where=where))
    if any(_CONTROL.search(c) for c in checklist):
        raise ScriptError(
            _("{where}: a checklist item contains control characters.").format(where=where)
        )
    fields_raw = raw.get("fields", [])
    if not isinstance(fields_raw, list):
        raise ScriptError(_("{where}: fields must be a list of tables.").format(where=where))
    fields = tuple(_field(where, f) for f in fields_raw)
    ids = [f.id for f in fields]
    if len(ids) != len(set(ids)):
        raise ScriptError(_("{where}: a field id is used twice.").format(where=where))
    branches_raw = raw.get("branches", [])
    if not isinstance(branches_raw, list):
        raise ScriptError(_("{where}: branches must be a list of tables.").format(where=where))
    branches = tuple(_branch(where, b, set(ids)) for b in branches_raw)
    nxt = raw.get("next")
    if nxt is not None and not isinstance(nxt, str):
        raise ScriptError(_("{where}: 'next' must be a stage id.").format(where=where))
    complaint = _text(where, raw, "complaint", required=False)
    if complaint and complaint not in {f.id for f in fields if f.type == "text"}:
        raise ScriptError(
            _("{where}: 'complaint' must name a text field of this stage.").format(where=where)
        )
    return Stage(
        id=stage_id,
        phase=phase,
        title=_text(where, raw, "title"),
        say=_text(where, raw, "say", required=False),
        checklist=tuple(checklist),
        fields=fields,
        next=nxt or None,
        branches=branches,
        complaint=complaint,
    )


def _text_list(where: str, raw: Mapping[str, object], key: str, fid: str) -> tuple[str, ...]:
    values = raw.get(key, [])
    if not isinstance(values, list) or not all(isinstance(c, str) for c in values):
        raise ScriptError(
            _("{where}: field '{id}' {key} must be a list of text.").format(
                where=where, id=fid, key=key
            )
        )
    if any(_CONTROL.search(c) for c in values):
        raise ScriptError(
            _("{where}: a choice of field '{id}' contains control characters.").format(
                where=where, id=fid
            )
        )
    return tuple(values)


def _field(where: str, raw: object) -> Field:
    if not isinstance(raw, dict):
        raise ScriptError(_("{where}: each field must be a table.").format(where=where))
    in_field = _("{where} field").format(where=where)
    _unknown(in_field, raw, _FIELD_KEYS)
    fid = _text(in_field, raw, "id")
    if not _ID.match(fid):
        raise ScriptError(
            _("{where}: field id '{id}' must be lower-case letters, digits and _.").format(
                where=where, id=fid
            )
        )
    ftype = raw.get("type", "text")
    if ftype not in FIELD_TYPES:
        raise ScriptError(
            _("{where}: field '{id}' type must be one of {types}.").format(
                where=where, id=fid, types=", ".join(FIELD_TYPES)
            )
        )
    choices = _text_list(where, raw, "choices", fid)
    if ftype == "choice" and not choices:
        raise ScriptError(
            _("{where}: choice field '{id}' has no choices.").format(where=where, id=fid)
        )
    labels = _text_list(where, raw, "choice_labels", fid)
    if labels and len(labels) != len(choices):
        raise ScriptError(
            _("{where}: field '{id}' needs one choice label per choice.").format(
                where=where, id=fid
            )
        )
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise ScriptError(
            _("{where}: field '{id}' required must be true or false.").format(
                where=where, id=fid
            )
        )
    named = _("{where} field '{id}'").format(where=where, id=fid)
    return Field(
        id=fid,
        label=_text(named, raw, "label"),
        type=str(ftype),
        choices=choices,
        required=required,
        help=_text(named, raw, "help", required=False),
        choice_labels=labels,
    )


def _branch(where: str, raw: object, field_ids: set[str]) -> Branch:
    if not isinstance(raw, dict):
        raise ScriptError(_("{where}: each branch must be a table.").format(where=where))
    in_branch = _("{where} branch").format(where=where)
    _unknown(in_branch, raw, _BRANCH_KEYS)
    fld = _text(in_branch, raw, "field")
    if fld not in field_ids:
        raise ScriptError(
            _("{where}: branch on '{field}', which is not a field of this stage.").format(
                where=where, field=fld
            )
        )
    if "equals" in raw:
        values: tuple[str, ...] = (str(raw["equals"]),)
    elif isinstance(raw.get("in"), list):
        values = tuple(str(v) for v in raw["in"])
    else:
        raise ScriptError(_("{where}: a branch needs 'equals' or 'in'.").format(where=where))
    return Branch(field=fld, values=values, goto=_text(in_branch, raw, "goto"))


def check_script(script: Script) -> None:
    """Check a script built in code (not read from a file, e.g. seat.scripts.compose) by the
    rules a file is held to; raises ScriptError naming the problem."""
    if not script.stages:
        raise ScriptError(_("no [[stages]]: a script needs at least one stage."))
    for s in script.stages:
        where = _("stage '{id}'").format(id=s.id)
        if not _ID.match(s.id):
            raise ScriptError(
                _("{where}: id must be lower-case letters, digits and _.").format(where=where)
            )
        if s.phase not in PHASES:
            raise ScriptError(
                _("{where}: phase must be one of {phases}.").format(
                    where=where, phases=", ".join(PHASES)
                )
            )
        ids = [f.id for f in s.fields]
        if len(ids) != len(set(ids)):
            raise ScriptError(_("{where}: a field id is used twice.").format(where=where))
        for b in s.branches:
            if b.field not in ids:
                raise ScriptError(
                    _("{where}: branch on '{field}', which is not a field of this stage.").format(
                        where=where, field=b.field
                    )
                )
        if s.complaint and s.complaint not in {f.id for f in s.fields if f.type == "text"}:
            raise ScriptError(
                _("{where}: 'complaint' must name a text field of this stage.").format(
                    where=where
                )
            )
    _check_graph(script.stages)


def _check_graph(stages: tuple[Stage, ...]) -> None:
    ids = [s.id for s in stages]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise ScriptError(_("stage id used twice: {ids}.").format(ids=", ".join(sorted(dup))))
    known = set(ids)
    edges: dict[str, list[str]] = {}
    for s in stages:
        targets = [b.goto for b in s.branches] + ([s.next] if s.next else [])
        for t in targets:
            if t not in known:
                raise ScriptError(
                    _("stage '{id}' goes to unknown stage '{target}'.").format(id=s.id, target=t)
                )
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
                raise ScriptError(
                    _("loop in branches: {path}.").format(path=" -> ".join([*cycle, t]))
                )
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
        raise ScriptError(
            ngettext(
                "stage never reached: {ids}.", "stages never reached: {ids}.", len(unreachable)
            ).format(ids=", ".join(unreachable))
        )
    # Phases never go backwards along any path.
    order = {p: i for i, p in enumerate(PHASES)}
    by_id = {s.id: s for s in stages}
    for s in stages:
        for t in edges[s.id]:
            if order[by_id[t].phase] < order[s.phase]:
                raise ScriptError(
                    _("stage '{id}' ({phase}) goes back to '{target}' ({target_phase}).").format(
                        id=s.id, phase=s.phase, target=t, target_phase=by_id[t].phase
                    )
                )
    missing = [p for p in PHASES if p not in {s.phase for s in stages}]
    if missing:
        raise ScriptError(
            ngettext(
                "no stage for phase: {phases}.", "no stage for phases: {phases}.", len(missing)
            ).format(phases=", ".join(missing))
        )
    # Every path must end in the closing phase.
    for s in stages:
        if not edges[s.id] and s.phase != "closing":
            raise ScriptError(
                _("stage '{id}' ends the script outside the closing phase.").format(id=s.id)
            )


def load_with_fallback(directory: Path, cache: Path | None) -> tuple[ScriptBook, list[str]]:
    """Load the scripts; a rejected file falls back to its last good copy in `cache`.

    Every file that loads is copied to the cache, so the next broken edit of it can fall
    back. Each language variant is its own file, so each falls back on its own. The messages
    name each rejected file and say which copy is used instead.
    """
    scripts = ScriptBook()
    problems: list[str] = []
    good, rejected = load_scripts(directory)
    by_file = {s.source: s for s in good.variants.values()}
    for path in sorted(directory.glob("*.toml")):
        script = by_file.get(path.name)
        if script is not None:
            scripts.add(script)
            if cache is not None:
                _remember(path, cache)
            continue
        message = next((p for p in rejected if p.startswith(f"{path.name}:")), path.name)
        fallback = _last_good(path.name, cache)
        if fallback is not None and not scripts.has(fallback.id, fallback.language):
            scripts.add(fallback)
            message += " " + _("Using the last good copy of this script.")
        problems.append(message)
    # A variant rejected for its shape was dropped; its fallback may be too.
    problems.extend(p for p in _check_variants(scripts) if p not in problems)
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
