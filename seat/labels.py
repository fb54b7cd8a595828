"""Words for the codes the database stores (tiers, outcomes, kinds, channels...), N_-marked.

Screens show `label(TABLE, code)`: the translated word, or the code itself when it is unknown
(a value from a newer version, a policy file): never an error.
"""

from __future__ import annotations

from collections.abc import Mapping

from seat.i18n import N_, _

TIERS = {
    "vip": N_("VIP"),
    "diamond": N_("diamond"),
    "platinum": N_("platinum"),
    "gold": N_("gold"),
    "ordinary": N_("ordinary"),
}
GENDERS = {"female": N_("female"), "male": N_("male"), "other": N_("other")}
NEEDS = {
    "inquiry": N_("inquiry"),
    "repair": N_("repair"),
    "complaint": N_("complaint"),
    "suggestion": N_("suggestion"),
    "business": N_("business"),
    "notice": N_("notice"),
}
OUTCOMES = {
    "resolved": N_("resolved"),
    "callback_promised": N_("callback promised"),
    "work_order_created": N_("work order created"),
    "complaint_opened": N_("complaint opened"),
    "escalated": N_("escalated"),
    "no_answer": N_("no answer"),
    "busy": N_("busy"),
    "wrong_number": N_("wrong number"),
}
CALLBACK_KINDS = {
    "manual": N_("manual"),
    "satisfaction": N_("satisfaction"),
    "complaint_follow_up": N_("complaint follow up"),
    "birthday": N_("birthday"),
    "churned": N_("churned"),
}
CALLBACK_STATUSES = {"open": N_("open"), "done": N_("done"), "cancelled": N_("cancelled")}
CHANNELS = {
    "phone": N_("phone"),
    "email": N_("email"),
    "wechat": N_("WeChat"),
    "walk_in": N_("walk-in"),
    "letter": N_("letter"),
    "web": N_("web"),
}
ROLES = {"agent": N_("agent"), "supervisor": N_("supervisor")}


def label(table: Mapping[str, str], code: str | None, empty: str = "-") -> str:
    """The word for a stored code in the current language ("-" for none)."""
    if not code:
        return empty
    return _(table.get(code, code.replace("_", " ")))

LANGUAGES = {"en": "English", "zh_CN": "中文 (简体)"}
"""A customer's language, named in itself (the way its speakers look for it), in every seat."""


def language_label(code: str | None, empty: str = "-") -> str:
    """A language code ("zh_CN") as the language's own name ("中文 (简体)")."""
    if not code:
        return empty
    return LANGUAGES.get(code, code)
