"""Translations: every string a person reads goes through here (gettext catalogues, Babel).

`_()` translates now, in the current language. `N_()` only marks a string for extraction, for
module-level constants (binding descriptions, column headings): translate them with `_()` where
they are shown, so the language can change after import.
"""

from __future__ import annotations

import gettext

_translations: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def _(message: str) -> str:
    """The message in the current language."""
    return _translations.gettext(message)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark a message for the catalogues without translating it yet."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural message for n, in the current language."""
    return _translations.ngettext(singular, plural, n)


def language() -> str:
    """The current language code ("en", "zh_CN")."""
    return _language
