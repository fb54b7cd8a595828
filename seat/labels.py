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
PHONE_KINDS = {
    "mobile": N_("mobile"),
    "home": N_("home"),
    "work": N_("work"),
}

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
    "complaint_follow_up": N_("complaint follow-up"),
    "birthday": N_("birthday"),
    "churned": N_("churned"),
    "renewal": N_("membership renewal"),
    "holiday": N_("holiday greetings"),
    "maintenance": N_("maintenance reminder"),
    "routine": N_("routine care"),
}
CALLBACK_STATUSES = {
    "open": N_("open"),
    "done": N_("done"),
    "cancelled": N_("cancelled"),
    "missed": N_("missed"),  # not stored: tries used up, the callback stays visible
}
CALLBACK_RULES = {
    "satisfaction": N_("satisfaction"),
    "new_buyer": N_("new buyer"),
    "complaint": N_("complaint follow-up"),
    "birthday": N_("birthday"),
    "churned": N_("churned"),
    "renewal": N_("membership renewal"),
    "holiday": N_("holiday greetings"),
    "maintenance": N_("maintenance reminder"),
    "routine": N_("routine care"),
}
"""The callback rules' cadences (callbacks.Scheduled.rule)."""
COMPLAINT_STEPS = {
    "intake": N_("intake"),
    "invalid": N_("closed as invalid"),
    "investigating": N_("investigating"),
    "proposed": N_("solution proposed"),
    "approved": N_("solution approved"),
    "implemented": N_("implemented"),
    "closed": N_("closed"),
}
COMPLAINT_EVENTS = {
    "intake": N_("registered"),
    "accept": N_("judged valid"),
    "invalid": N_("judged invalid"),
    "investigate": N_("cause recorded"),
    "propose": N_("solution proposed"),
    "approve": N_("solution approved"),
    "send_back": N_("sent back"),
    "implement": N_("customer accepts"),
    "refuse": N_("customer refused"),
    "close": N_("closed"),
    "escalate": N_("escalated"),
    "pause": N_("waiting on the customer"),
    "resume": N_("resumed"),
    "model_case": N_("marked as a model case"),
    "loop_open": N_("unsatisfied: loop opened"),
    "loop_follow_up": N_("follow-up: loop stays open"),
    "loop_close": N_("loop closed"),
}
"""A complaint's history events (ComplaintEvent.action) in words."""
COMPLAINT_STEPS_SHORT = {
    "intake": N_("intake"),
    "investigating": N_("investigating"),
    "proposed": N_("for approval"),
    "approved": N_("approved"),
    "implemented": N_("implemented"),
}
"""The open steps in the supervisor's narrow columns (wallboard, agent queue)."""
COMPLAINT_NEXT_STEP = {
    "intake": N_("judge it first: valid or invalid"),
    "investigating": N_("record the cause, then propose a solution"),
    "proposed": N_("a supervisor approves the proposal or sends it back"),
    "approved": N_("tell the customer and record whether they accept"),
    "implemented": N_("close it with category, root cause and summary"),
}
CHANNELS = {
    "phone": N_("phone"),
    "email": N_("email"),
    "wechat": N_("WeChat"),
    "weibo": N_("Weibo"),
    "web": N_("website"),
    "store": N_("store"),
    "letter": N_("letter"),
    "walk_in": N_("walk-in"),
}
SUGGESTION_CATEGORIES = {
    "product": N_("product"),
    "service": N_("service"),
    "price": N_("price"),
    "delivery": N_("delivery"),
    "store": N_("store"),
    "website": N_("website / app"),
    "other": N_("other"),
}
"""The classes of suggestions (意见和建议) the register counts."""
SUGGESTION_STATUSES = {
    "new": N_("new"),
    "replied": N_("answered"),
    "thanked": N_("thanked"),
}
NEED_CHOICES = {
    "inquiry": N_("inquiry"),
    "repair": N_("repair"),
    "complaint": N_("complaint"),
    "suggestion": N_("suggestion"),
    "business": N_("business request"),
    "notice": N_("notice / outage"),
    "callback": N_("callback"),
}
"""Need categories in the call screen's own, longer words (seat.calls.need_label)."""
OUTCOME_CHOICES = {
    "resolved": N_("resolved on the call"),
    "callback_promised": N_("callback promised"),
    "work_order_created": N_("work order created"),
    "complaint_opened": N_("complaint opened"),
    "escalated": N_("escalated"),
    "no_answer": N_("no answer (try again later)"),
    "busy": N_("busy (try again sooner)"),
    "wrong_number": N_("wrong number (flag it)"),
}
"""Outcomes in the call screen's own, longer words, with what to do next
(seat.calls.outcome_label); OUTCOMES has the short words of lists."""
ROLES = {"agent": N_("agent"), "supervisor": N_("supervisor")}
NOTICE_KINDS = {"outage": N_("outage"), "service": N_("product / service")}
CHURN_REASONS = {
    "quality": N_("product quality"),
    "function": N_("features / function"),
    "service": N_("our service"),
    "price": N_("price"),
    "other": N_("other"),
}
"""Why a churned member stopped buying (models.ChurnReason), as the member report counts it."""
MERGE_COUNTS = {
    "phone_number": N_("phone numbers"),
    "call": N_("calls"),
    "callback": N_("callbacks"),
    "work_order": N_("work orders"),
    "complaint": N_("complaints"),
    "suggestion": N_("suggestions"),
    "purchase": N_("purchase lines"),
    "duplicate_numbers": N_("numbers both had (kept once)"),
}
"""What a customer merge moves (seat.merge), as the confirmation and the history count it."""
MERGE_FIELDS = {
    "gender": N_("gender"),
    "birthday": N_("birthday"),
    "occupation": N_("occupation"),
    "address": N_("address"),
    "second_address": N_("2nd address"),
    "owner_id": N_("owner"),
}
"""A customer's fields a merge fills in from the merged-away customer (seat.merge.FILLED)."""


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


def callback_kind(kind: str) -> str:
    """A callback's kind in the current language: "complaint follow-up", "投诉回访"."""
    return label(CALLBACK_KINDS, kind)


def complaint_step_short(status: str) -> str:
    """A complaint's open step in a narrow column: "for approval", "待批准"."""
    return _(COMPLAINT_STEPS_SHORT.get(status, status))


QUALITY_MANNERS = {
    "greeting": N_("Greeted, named the company and themselves"),
    "identity": N_("Confirmed who is calling"),
    "need_restated": N_("Restated the customer's need"),
    "forbidden_phrases": N_("No forbidden phrases (\"can't\", \"don't know\")"),
    "closing": N_("Closed with what happens next and thanks"),
}
"""The manners every quality score form ends with (seat.quality), after the script's items."""
QUALITY_MARKS = {"1": N_("met"), "0": N_("not met"), "": N_("n/a")}
"""A score form item's mark: met, not met, not applicable (seat.quality)."""
SAMPLE_KINDS = {"call": N_("call"), "callback": N_("callback")}
