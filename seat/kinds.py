"""The kinds of things the seat records (roles, tiers, outcomes, callback kinds...): plain
enumerations, importable without the mapped tables (seat.models re-exports each), so the desk's
first frame can name them before the tables exist (seat.lazy)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Who a person is on the floor; what each may do is seat.roles.PERMISSIONS."""

    AGENT = "agent"
    SHIFT_LEAD = "shift_lead"
    SUPERVISOR = "supervisor"
    QUALITY = "quality"
    """A quality inspector (质检员)."""


class Tier(StrEnum):
    VIP = "vip"
    DIAMOND = "diamond"
    PLATINUM = "platinum"
    GOLD = "gold"
    ORDINARY = "ordinary"


TIER_LEVEL: dict[Tier, int] = {
    Tier.VIP: 1,
    Tier.DIAMOND: 1,
    Tier.PLATINUM: 2,
    Tier.GOLD: 2,
    Tier.ORDINARY: 3,
}


def level_for(tier: str) -> int:
    """Customer level (1 strictest service, 3 ordinary) derived from the tier."""
    return TIER_LEVEL[Tier(tier)]


class NeedCategory(StrEnum):
    INQUIRY = "inquiry"
    REPAIR = "repair"
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    BUSINESS = "business"
    NOTICE = "notice"


class Outcome(StrEnum):
    RESOLVED = "resolved"
    CALLBACK_PROMISED = "callback_promised"
    WORK_ORDER_CREATED = "work_order_created"
    COMPLAINT_OPENED = "complaint_opened"
    ESCALATED = "escalated"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    WRONG_NUMBER = "wrong_number"


class CallbackStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class CallbackKind(StrEnum):
    MANUAL = "manual"
    SATISFACTION = "satisfaction"
    COMPLAINT_FOLLOW_UP = "complaint_follow_up"
    BIRTHDAY = "birthday"
    CHURNED = "churned"
    RENEWAL = "renewal"  # a membership ends next month (seat.care)
    HOLIDAY = "holiday"  # holiday greetings, from the business calendar
    MAINTENANCE = "maintenance"  # a purchased product's service falls due in a week
    ROUTINE = "routine"  # routine care: monthly in the first year, quarterly after


class ChurnReason(StrEnum):
    """Why a churned member stopped buying, as the win-back call records it (DOMAIN.md 5)."""

    QUALITY = "quality"
    FUNCTION = "function"
    SERVICE = "service"
    PRICE = "price"
    OTHER = "other"


class WorkOrderKind(StrEnum):
    SERVICE_REQUEST = "service_request"  # Z1, after full payment
    DELIVERY_EXCEPTION = "delivery_exception"  # Z2, before full payment


class NoticeKind(StrEnum):
    OUTAGE = "outage"
    SERVICE = "service"
