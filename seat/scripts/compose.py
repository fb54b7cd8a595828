"""One script read from several: a call that does several scripts' work at once.

A member with a birthday greeting and a holiday greeting due the same day hears from us
once; the call reads one script composed from the two (seat.callbacks chooses the parts).
The first part's greeting, then each part's middle stages (discovery and resolution) in
the order given, then the first part's closing. Pure Python, no Textual.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from seat.scripts.engine import PHASES, Branch, Script, ScriptError, Stage, check_script

_ENDS = ("greeting", "closing")


def _unique(wanted: str, prefix: str, used: set[str]) -> str:
    """`wanted` when free, else prefixed by its part ("holiday_wishes"), numbered if need be."""
    name, n = wanted, 1
    if name in used:
        name = f"{prefix}_{wanted}"
    while name in used:
        n += 1
        name = f"{prefix}_{wanted}_{n}"
    used.add(name)
    return name


def _fields(stage: Stage, prefix: str, used: set[str]) -> Stage:
    """The stage with its field ids made unique in the composed script (and its branches and
    complaint field following them)."""
    names = {f.id: _unique(f.id, prefix, used) for f in stage.fields}
    fields = tuple(replace(f, id=names[f.id]) for f in stage.fields)
    branches = tuple(Branch(names.get(b.field, b.field), b.values, b.goto) for b in stage.branches)
    complaint = names.get(stage.complaint, stage.complaint)
    return replace(stage, fields=fields, branches=branches, complaint=complaint)


def _relinked(stage: Stage, link: Callable[[str], str], **changes: str) -> Stage:
    """The stage with its next stage and its branches' targets passed through `link`."""
    return replace(
        stage,
        next=link(stage.next) if stage.next else None,
        branches=tuple(replace(b, goto=link(b.goto)) for b in stage.branches),
        **changes,
    )


def compose(parts: Sequence[tuple[str, Script]], *, script_id: str, title: str) -> Script:
    """One script walking every part: `parts` are (prefix, script) in the order read.

    Stage and field ids keep their names unless one is taken already; then the part's prefix
    goes in front ("holiday_wishes"). Links inside a part keep pointing where they did; a
    part's way out (a link to its closing) leads to the next part's first middle stage, the
    last part's to the closing. Phases never go back, so a later part's discovery stages
    after an earlier part's resolution count as resolution. The result is checked like a
    script file (`check_script`); raises ScriptError when it cannot be walked.
    """
    if not parts:
        raise ScriptError("no scripts to compose")
    __, first = parts[0]
    greeting = [s for s in first.stages if s.phase == "greeting"]
    closing = [s for s in first.stages if s.phase == "closing"]
    middles = [(p, [s for s in sc.stages if s.phase not in _ENDS]) for p, sc in parts]
    middles = [(p, stages) for p, stages in middles if stages]
    used = {s.id for s in greeting + closing}
    renamed = [{s.id: _unique(s.id, p, used) for s in stages} for p, stages in middles]
    entries = [names[stages[0].id] for names, (__, stages) in zip(renamed, middles, strict=True)]
    final = closing[0].id if closing else ""
    order = {p: i for i, p in enumerate(PHASES)}

    def relink(target: str, names: dict[str, str], after: int) -> str:
        """Where a link of a part goes in the composed script: inside the part, renamed;
        out of it, on to the part `after` (the closing after the last)."""
        if target in names:
            return names[target]
        return entries[after] if after < len(entries) else final

    own = renamed[0] if middles and middles[0][0] == parts[0][0] else {}
    ends = {s.id for s in greeting} | ({s.id for s in closing} if own else set())

    def opening_link(target: str) -> str:
        """A greeting's link: to another greeting stage or ("not now") to the closing as
        written, to its own middle stage renamed, else on to the first middle part."""
        return target if target in ends else relink(target, own, 0)

    field_ids: set[str] = set()
    out = [_relinked(_fields(s, parts[0][0], field_ids), opening_link) for s in greeting]
    floor = 0  # the latest phase read so far: a later part never goes back before it
    for k, ((prefix, stages), names) in enumerate(zip(middles, renamed, strict=True)):
        top = floor
        for stage in stages:
            phase = PHASES[max(order[stage.phase], floor)]
            top = max(top, order[phase])
            out.append(_relinked(
                _fields(stage, prefix, field_ids),
                lambda t, names=names, k=k: relink(t, names, k + 1),
                id=names[stage.id], phase=phase,
            ))  # fmt: skip
        floor = top
    out += [_fields(s, parts[0][0], field_ids) for s in closing]
    script = Script(
        id=script_id,
        title=title,
        language=first.language,
        kind=first.kind,
        stages=tuple(out),
        source=" + ".join(sc.source or sc.id for __, sc in parts),
    )
    check_script(script)
    return script

