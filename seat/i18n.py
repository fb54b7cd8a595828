"""Translations: every string a person reads goes through here (gettext catalogues, Babel).

`_()` translates now, in the current language. `N_()` only marks a string for extraction, for
module-level constants (binding descriptions, column headings): translate them with `_()` where
they are shown, so the language can change after import. `ngettext()` for counted phrases.
Use placeholders, never f-strings, inside `_()`: `_("{n} overdue").format(n=n)`.

Languages
    English is the source language: every msgid *is* the English text, so English is complete
    by construction (there is no en catalogue; `_()` returns the msgid). Every other language
    lives in `seat/locale/<lang>/LC_MESSAGES/*.po`. ALL .po files of a language are merged, so
    several people can each own one part (`ui.po` for the screens, `domain.po` for domain
    modules, reports, CLI and scripts; more parts may be added). A msgid is translated once:
    the first part (in file-name order) with a non-empty, non-fuzzy translation wins.

Loading
    The .po files are read at run time (no committed .mo, so nothing can fall out of sync) and
    only when a language other than English is chosen: Babel reads and merges the parts, the
    result is compiled in memory and served by the standard library's gettext (`catalogue()`).
    Cost: ~50 ms once for ~1,000 messages; English costs nothing. Babel also does the
    extraction (babel.cfg) and the dates.

Choosing the language, first match wins
    `set_language(code)` (the `seat --lang zh_CN` option), `SEAT_LANG`, then the locale of the
    environment (LC_ALL, LC_MESSAGES, LANG). "zh_CN.UTF-8", "zh-CN" and "zh" all mean zh_CN;
    an unknown code (or C / POSIX) means English.

Dates and times
    Stored times are UTC; screens pass local datetimes (`desk.local(dt)`) to `format_datetime`,
    `format_date`, `format_time` and `format_duration`. In English these give exactly the
    formats the screens used before (strftime); in Chinese, Babel's CLDR data
    ("11月23日 周一 10:00").
"""

from __future__ import annotations

import argparse
import gettext
import io
import os
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
"""`<lang>/LC_MESSAGES/*.po`: the catalogue parts of each language."""

SOURCE_LANGUAGE = "en"
DOMAIN = "seat"

_translations: gettext.NullTranslations | None = None  # None: not chosen yet (environment)
_language = SOURCE_LANGUAGE
_cache: dict[str, gettext.NullTranslations] = {}


def _current() -> gettext.NullTranslations:
    if _translations is None:
        set_language(from_environment())
    assert _translations is not None
    return _translations


class Contextual(str):
    """An English message marked with a context by `NC_()`: `_()` translates it in that context."""

    context: str

    def __new__(cls, context: str, message: str) -> Contextual:
        text = super().__new__(cls, message)
        text.context = context
        return text


def _(message: str) -> str:
    """The message in the current language (in its context, if `NC_()` gave it one)."""
    if isinstance(message, Contextual):
        return _current().pgettext(message.context, message)
    return _current().gettext(message)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark a message for the catalogues without translating it yet."""
    return message


def NC_(context: str, message: str) -> str:  # noqa: N802 - the gettext convention
    """Like `N_()`, for a word that needs another translation in another place (the "Next"
    page key vs the "Next" stage key): msgctxt in the .po; `_()` later uses the context."""
    return Contextual(context, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural message for n, in the current language."""
    return _current().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """The message in the current language, where the same English word needs a different
    translation in another place (e.g. "Next" page vs "Next" step): msgctxt in the .po."""
    return _current().pgettext(context, message)


def language() -> str:
    """The current language code ("en", "zh_CN")."""
    _current()
    return _language


def available_languages() -> list[str]:
    """English plus every language with a catalogue directory."""
    found = (
        sorted(p.name for p in LOCALE_DIR.glob("*") if (p / "LC_MESSAGES").is_dir())
        if LOCALE_DIR.is_dir()
        else []
    )
    return [SOURCE_LANGUAGE, *[c for c in found if c != SOURCE_LANGUAGE]]


def normalize(code: str | None) -> str:
    """A language code as the seat knows it: "zh_CN.UTF-8" -> "zh_CN"; unknown -> "en"."""
    if not code:
        return SOURCE_LANGUAGE
    code = code.split(".", 1)[0].split("@", 1)[0].replace("-", "_").strip()
    if not code or code in ("C", "POSIX"):
        return SOURCE_LANGUAGE
    known = available_languages()
    lowered = {k.lower(): k for k in known}
    if code.lower() in lowered:
        return lowered[code.lower()]
    base = code.split("_", 1)[0].lower()
    if base == "zh" and code.lower() not in ("zh", "zh_cn", "zh_sg", "zh_hans"):
        return SOURCE_LANGUAGE  # traditional Chinese is not simplified Chinese
    for k in known:
        if k.split("_", 1)[0].lower() == base:
            return k
    return SOURCE_LANGUAGE


def from_environment(environ: Mapping[str, str] | None = None) -> str:
    """SEAT_LANG, then LC_ALL, LC_MESSAGES, LANG (the first one set decides)."""
    env = os.environ if environ is None else environ
    for name in ("SEAT_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return normalize(value)
    return SOURCE_LANGUAGE


def set_language(code: str | None) -> str:
    """Switch every later `_()` to this language; returns the code in use (unknown -> en)."""
    global _translations, _language
    lang = normalize(code)
    _translations = catalogue(lang)
    _language = lang
    return lang


def catalogue(lang: str) -> gettext.NullTranslations:
    """The merged catalogue of a language (cached); English is the identity.

    Babel reads the parts (fuzzy and untranslated entries are left out; msgctxt is kept, so
    `pgettext` works), the merged catalogue is compiled in memory and served by the standard
    library's gettext. The first part (in file-name order) translating a message wins."""
    if lang == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    if lang not in _cache:
        from babel.messages.catalog import Catalog
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        merged = Catalog(locale=lang)
        for part in po_files(lang):
            with part.open("rb") as fh:
                for message in read_po(fh, locale=lang):
                    if not message.id or message.fuzzy or not _translated(message.string):
                        continue
                    key = message.id[0] if isinstance(message.id, tuple) else message.id
                    if merged.get(key, context=message.context) is None:
                        merged.add(message.id, message.string, context=message.context)
        buffer = io.BytesIO()
        write_mo(buffer, merged)
        buffer.seek(0)
        _cache[lang] = gettext.GNUTranslations(buffer)
    return _cache[lang]


def _translated(string: str | tuple[str, ...] | None) -> bool:
    if isinstance(string, tuple):
        return bool(string) and all(string)
    return bool(string)


def po_files(lang: str) -> list[Path]:
    """Every catalogue part of a language, in file-name order."""
    return sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po"))


def reload() -> None:
    """Forget loaded catalogues (after editing a .po in a running process, e.g. tests)."""
    global _translations
    _cache.clear()
    if _translations is not None:
        set_language(_language)


class LanguageAction(argparse.Action):
    """`--lang CODE` on the command line: sets the language as soon as it is parsed."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, set_language(str(values)))


# -- dates and times ---------------------------------------------------------------------------

_EN_STYLES = {
    "full": "%a %Y-%m-%d %H:%M",  # Mon 2026-11-23 10:00 (the desk's greeting line)
    "medium": "%Y-%m-%d %H:%M",  # 2026-11-23 10:00
    "short": "%m-%d %H:%M",  # 11-23 10:00 (tables, sidebar)
    "weekday": "%a %m-%d %H:%M",  # Mon 11-23 10:00 (deadlines)
}
_ZH_STYLES = {
    "full": "M月d日 EEE HH:mm",  # 11月23日 周一 10:00
    "medium": "yyyy-MM-dd HH:mm",
    "short": "MM-dd HH:mm",
    "weekday": "M月d日 EEE HH:mm",
}
_EN_DATE = {"full": "%a %Y-%m-%d", "medium": "%Y-%m-%d", "short": "%m-%d"}
_ZH_DATE = {"full": "M月d日 EEE", "medium": "yyyy-MM-dd", "short": "M月d日"}


def _babel(value: datetime | date, pattern: str) -> str:
    from babel.dates import format_date as babel_date
    from babel.dates import format_datetime as babel_datetime

    loc = _language
    if isinstance(value, datetime):
        return babel_datetime(value, pattern, tzinfo=value.tzinfo, locale=loc)
    return babel_date(value, pattern, locale=loc)


def format_datetime(dt_local: datetime, style: str = "short") -> str:
    """A local date and time: style "full" (weekday and year), "weekday", "medium", "short"."""
    if language() == SOURCE_LANGUAGE or style not in _ZH_STYLES:
        return dt_local.strftime(_EN_STYLES.get(style, style))
    return _babel(dt_local, _ZH_STYLES[style])


def format_date(day: date, style: str = "medium") -> str:
    """A date: "full" (weekday), "medium" (2026-11-23) or "short" (11-23 / 11月23日)."""
    if language() == SOURCE_LANGUAGE or style not in _ZH_DATE:
        return day.strftime(_EN_DATE.get(style, style))
    return _babel(day, _ZH_DATE[style])


def format_time(dt_local: datetime) -> str:
    """10:00 (24-hour in both languages)."""
    return dt_local.strftime("%H:%M")


def format_duration(span: timedelta) -> str:
    """45m, 5h20, 3d04h in English; 45分, 5时20分, 3天4时 in Chinese (sign left out)."""
    minutes = int(abs(span).total_seconds() // 60)
    if language() == SOURCE_LANGUAGE:
        if minutes < 60:
            return f"{minutes}m"
        if minutes < 48 * 60:
            return f"{minutes // 60}h{minutes % 60:02d}"
        return f"{minutes // 1440}d{(minutes % 1440) // 60:02d}h"
    if minutes < 60:
        return f"{minutes}分"
    if minutes < 48 * 60:
        return f"{minutes // 60}时{minutes % 60:02d}分"
    return f"{minutes // 1440}天{(minutes % 1440) // 60}时"
