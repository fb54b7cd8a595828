"""Who may do what. Pure: screens and data functions ask here before acting.

Every supervisor-only action is named once in `SUPERVISOR_ONLY`; the data function that does
it calls `require(agent, action)` (the refusal is one whole sentence in the agent's language),
and a screen asks `may(agent, action)` in `check_action` so the footer, the command palette
and the desk's key card offer an agent only what an agent can do.
"""

from __future__ import annotations

from typing import Protocol

from seat.errors import PermissionDenied as PermissionDenied
from seat.i18n import N_, _
from seat.models import Role

APPROVE_SOLUTION = "approve_solution"
SEND_BACK = "send_back"
DECIDE_ORDER = "decide_order"
APPROVE_QUOTE = "approve_quote"
REASSIGN_ORDER = "reassign_order"
REASSIGN_CALLBACK = "reassign_callback"
WALLBOARD = "wallboard"
ALL_COMPLAINTS = "all_complaints"
OTHERS_QUEUE = "others_queue"
AGENT_FIGURES = "agent_figures"
PUBLISH_NOTICE = "publish_notice"
PIN_TIER = "pin_tier"
SET_OWNER = "set_owner"
MEMBER_REPORT = "member_report"
MARK_MODEL_CASE = "mark_model_case"

SUPERVISOR_ONLY: dict[str, str] = {
    APPROVE_SOLUTION: N_("approve a solution"),
    SEND_BACK: N_("send a proposal back"),
    DECIDE_ORDER: N_("approve or reject a work order"),
    APPROVE_QUOTE: N_("approve a head-office quote"),
    REASSIGN_ORDER: N_("reassign a work order"),
    REASSIGN_CALLBACK: N_("reassign a callback"),
    WALLBOARD: N_("open the wallboard"),
    ALL_COMPLAINTS: N_("see every agent's complaints"),
    OTHERS_QUEUE: N_("see another agent's queue"),
    AGENT_FIGURES: N_("read every agent's figures"),
    PUBLISH_NOTICE: N_("publish a notice"),
    PIN_TIER: N_("pin a customer's tier"),
    SET_OWNER: N_("name a customer's dedicated owner"),
    MEMBER_REPORT: N_("open the member analysis"),
    MARK_MODEL_CASE: N_("mark a case as a model"),
}
"""Action key -> what the refusal says the agent tried ("Only a supervisor can …")."""


class HasRole(Protocol):
    @property
    def role(self) -> str: ...


def is_supervisor(agent: HasRole) -> bool:
    return agent.role == Role.SUPERVISOR


def may(agent: HasRole | None, action: str) -> bool:
    """Whether `agent` may do `action` (a key of SUPERVISOR_ONLY, or anything else: yes)."""
    if action not in SUPERVISOR_ONLY:
        return True
    return agent is not None and is_supervisor(agent)


def require(agent: HasRole | None, action: str) -> None:
    """Raise PermissionDenied (the usual sentence) unless `agent` may do `action`."""
    if not may(agent, action):
        raise PermissionDenied(refusal(action))


def refusal(action: str) -> str:
    """"Only a supervisor can …; ask your shift lead." for a supervisor-only action."""
    return _("Only a supervisor can {action}; ask your shift lead.").format(
        action=_(SUPERVISOR_ONLY[action])
    )


def require_supervisor(agent: HasRole, action: str) -> None:
    """Raise PermissionDenied naming the action unless the agent is a supervisor.

    `action` is already in the agent's language ("decide on 'Sofa' (approve)"); prefer
    `require()` with a SUPERVISOR_ONLY key."""
    if not is_supervisor(agent):
        raise PermissionDenied(
            _("Only a supervisor can {action}; ask your shift lead.").format(action=action)
        )
