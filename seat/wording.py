"""Customer-facing wording: the phrases an agent must never use (服务用语禁忌).

Text that goes to the customer (a reply, a solution) is checked before it is saved. The
check only finds the phrases; the screen warns, shows them, and lets the agent rephrase
or keep the text on purpose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from seat.i18n import _

# Each pattern maps to the phrase the agent is shown. English forms match whole words,
# any case, straight or curly apostrophes; Chinese forms match anywhere (no word breaks).
# Both lists are checked whatever the seat's language: agents answer in either language.
_ENGLISH: tuple[tuple[str, str], ...] = (
    (r"can[’'`]?t", "can't"),
    (r"can\s*not", "cannot"),
    (r"(?:don[’'`]?t|do\s+not)\s+know", "don't know"),
    (r"not\s+possible", "not possible"),
    (r"not\s+my\s+department", "not my department"),
)
# 不行 / 不知道 / 不可以 from the manuals; 没办法 / 办不到 say "can't" too; 不归我管 and
# 不关我的事 refuse first-contact ownership (首问负责制), like "not my department".
_CHINESE: tuple[str, ...] = (
    "不知道", "不可以", "不行", "没办法", "办不到", "不归我管", "不关我的事",
)

_PATTERN = re.compile(
    "|".join(
        [f"(?P<e{i}>\\b{p}\\b)" for i, (p, __) in enumerate(_ENGLISH)]
        + [f"(?P<z{i}>{re.escape(p)})" for i, p in enumerate(_CHINESE)]
    ),
    re.IGNORECASE,
)

FORBIDDEN: tuple[str, ...] = tuple(label for __, label in _ENGLISH) + _CHINESE
"""The phrases as shown to the agent."""


@dataclass(frozen=True)
class Hit:
    phrase: str
    """The forbidden phrase, as listed in FORBIDDEN."""
    start: int
    """Offset of the first character in the checked text."""
    end: int
    """Offset just after the last character."""
    found: str
    """The text as the agent typed it."""


def check(text: str) -> list[Hit]:
    """Every forbidden phrase in `text`, in order, with its position."""
    hits: list[Hit] = []
    for m in _PATTERN.finditer(text or ""):
        group = m.lastgroup or ""
        idx = int(group[1:])
        phrase = _ENGLISH[idx][1] if group[0] == "e" else _CHINESE[idx]
        hits.append(Hit(phrase=phrase, start=m.start(), end=m.end(), found=m.group(0)))
    return hits


def excerpt(text: str, hit: Hit, around: int = 12) -> str:
    """The phrase in a little context, for a one-line warning: '…we «can't» replace…'."""
    left = text[max(0, hit.start - around) : hit.start]
    right = text[hit.end : hit.end + around]
    pre = "…" if hit.start > around else ""
    post = "…" if hit.end + around < len(text) else ""
    # Cut at a space rather than inside a word (text without spaces, e.g. Chinese, as is).
    if pre and " " in left.strip():
        left = left[left.index(" ") + 1 :]
    if post and " " in right.strip():
        right = right[: right.rindex(" ")]
    flat = f"{pre}{left}«{hit.found}»{right}{post}"
    return " ".join(flat.split())


def warning(text: str, hits: list[Hit]) -> str:
    """One message naming each phrase and where it is (1-based character position)."""
    parts = [
        _("“{phrase}” at {position}: {excerpt}").format(
            phrase=h.phrase, position=h.start + 1, excerpt=excerpt(text, h)
        )
        for h in hits
    ]
    return _("Avoid {phrases} — rephrase, or ctrl+s again to keep it.").format(
        phrases="; ".join(parts)
    )
