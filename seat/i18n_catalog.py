"""Catalogue upkeep (Babel): extract the messages from the code, add new ones to a part file,
check that a language is complete. Not imported by the running seat.

    python -m seat.i18n_catalog check [--lang zh_CN]
    python -m seat.i18n_catalog update --part ui.po seat/app.py seat/screens/desk.py ...

`update` adds every extracted msgid that no part of the language has yet to the named part
(empty msgstr: translate it), keeping what is there. `check` lists msgids missing from the
merged catalogue, entries with an empty (or fuzzy) translation and obsolete entries (in a
catalogue but no longer in the code); it exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_from_file
from babel.messages.pofile import read_po, write_po

from seat.i18n import LOCALE_DIR, po_files

PACKAGE_DIR = Path(__file__).parent
ROOT = PACKAGE_DIR.parent
KEYWORDS = {
    **{k: DEFAULT_KEYWORDS[k] for k in ("_", "N_", "ngettext", "gettext", "pgettext")},
    "NC_": DEFAULT_KEYWORDS["pgettext"],
}
"""What marks a message (the same as babel.cfg): _(), N_(), ngettext(), pgettext(), NC_()."""
CONTEXT_SEP = "\x04"
"""A message with a context is keyed "context\x04msgid", as gettext itself stores it."""


def key_of(msgid: str, context: str | None) -> str:
    return f"{context}{CONTEXT_SEP}{msgid}" if context else msgid


@dataclass(frozen=True)
class Message:
    msgid: str
    plural: str | None = None
    locations: tuple[str, ...] = ()
    context: str | None = None


def extract(paths: Iterable[Path] | None = None) -> dict[str, Message]:
    """Every marked message in the given files (default: the whole seat package)."""
    found: dict[str, tuple[str, str | None, str | None, list[str]]] = {}

    def add(
        filename: str, lineno: int, message: str | tuple[str, ...], context: str | None
    ) -> None:
        msgid, plural = (message[0], message[1]) if isinstance(message, tuple) else (message, None)
        if not msgid:
            return
        entry = found.setdefault(key_of(msgid, context), (msgid, plural, context, []))
        entry[3].append(f"{filename}:{lineno}")

    if paths is None:
        for filename, lineno, message, _c, ctx in extract_from_dir(
            str(PACKAGE_DIR), method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            add(f"seat/{filename}", lineno, message, ctx)
    else:
        for path in paths:
            rel = _rel(path)
            for lineno, message, _c, ctx in extract_from_file("python", path, keywords=KEYWORDS):
                add(rel, lineno, message, ctx)
    return {
        k: Message(msgid, plural, tuple(locs), ctx)
        for k, (msgid, plural, ctx, locs) in found.items()
    }


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def load(lang: str, parts: Sequence[Path] | None = None) -> list[tuple[Path, Catalog]]:
    return [(p, read_po(p.open("rb"), locale=lang)) for p in (parts or po_files(lang))]


@dataclass
class Report:
    missing: list[str] = field(default_factory=list)
    """In the code, in no catalogue part."""
    untranslated: list[str] = field(default_factory=list)
    """In a part, with an empty or fuzzy translation."""
    obsolete: list[str] = field(default_factory=list)
    """In a part (or kept as #~), no longer in the code."""
    conflicting: list[str] = field(default_factory=list)
    """Translated differently in two parts (only the first would ever show): use one
    translation, or give the places a context with pgettext()."""

    def __bool__(self) -> bool:
        return bool(self.missing or self.untranslated or self.obsolete or self.conflicting)

    def lines(self) -> list[str]:
        out = [f"missing: {m!r}" for m in self.missing]
        out += [f"untranslated: {m!r}" for m in self.untranslated]
        out += [f"obsolete: {m!r}" for m in self.obsolete]
        out += [f"conflicting: {m!r}" for m in self.conflicting]
        return out


def check(
    messages: dict[str, Message],
    catalogues: Sequence[tuple[Path, Catalog]],
    *,
    ignore_missing: Iterable[str] = (),
) -> Report:
    """What is wrong with the merged catalogue for these messages (empty report: complete)."""
    report = Report()
    known: dict[str, bool] = {}
    first: dict[str, tuple[object, str]] = {}
    for path, cat in catalogues:
        for m in cat:
            if not m.id:
                continue
            msgid = key_of(m.id[0] if isinstance(m.id, tuple) else m.id, m.context)
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            done = all(strings) and not m.fuzzy
            known[msgid] = known.get(msgid, False) or done
            if msgid not in messages:
                report.obsolete.append(f"{msgid} ({path.name})")
            if done:
                seen = first.setdefault(msgid, (m.string, path.name))
                if seen[0] != m.string:
                    report.conflicting.append(
                        f"{msgid}: {seen[0]!r} ({seen[1]}) vs {m.string!r} ({path.name})"
                    )
        for m in cat.obsolete.values():
            report.obsolete.append(f"{m.id} ({path.name}, #~)")
    skip = set(ignore_missing)
    for msgid in sorted(messages):
        if msgid not in known:
            if msgid not in skip:
                report.missing.append(msgid)
        elif not known[msgid]:
            report.untranslated.append(msgid)
    return report


def update(lang: str, part: str, paths: Sequence[Path]) -> list[str]:
    """Add the messages of `paths` that no part has yet to `part` and drop the part's entries
    no longer in the code; returns the msgids added."""
    messages = extract(paths)
    everywhere = extract()
    existing = load(lang)
    have = {
        key_of(m.id[0] if isinstance(m.id, tuple) else m.id, m.context)
        for _p, c in existing
        for m in c
    }
    target = LOCALE_DIR / lang / "LC_MESSAGES" / part
    if target.exists():
        cat = read_po(target.open("rb"), locale=lang)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        cat = Catalog(locale=lang, project="seat", fuzzy=False)
    for m in list(cat):
        msgid = m.id[0] if isinstance(m.id, tuple) else m.id
        if msgid and key_of(msgid, m.context) not in everywhere:
            cat.delete(m.id, context=m.context)
    cat.obsolete.clear()
    added = []
    for msgkey, msg in messages.items():
        if msgkey in have:
            continue
        key: str | tuple[str, str] = (msg.msgid, msg.plural) if msg.plural else msg.msgid
        cat.add(key, "" if not msg.plural else ("",), context=msg.context)
        added.append(msgkey)
    with target.open("wb") as fh:
        write_po(fh, cat, width=0, no_location=True, omit_header=False)
    return added


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m seat.i18n_catalog")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="is the language complete?")
    c.add_argument("--lang", default="zh_CN")
    u = sub.add_parser("update", help="add new messages of these files to a part file")
    u.add_argument("--lang", default="zh_CN")
    u.add_argument("--part", required=True, help="e.g. ui.po or domain.po")
    u.add_argument("paths", nargs="+", type=Path)
    args = p.parse_args(argv)
    if args.command == "update":
        for msgid in update(args.lang, args.part, args.paths):
            print(f"added: {msgid!r}")
        return 0
    report = check(extract(), load(args.lang))
    for line in report.lines():
        print(line)
    return 1 if report else 0


if __name__ == "__main__":
    sys.exit(main())
