"""Who may do what on the floor. Pure: screens and data functions ask here before acting.

Four roles (seat.models.Role): the **agent** handles calls, complaints, orders and callbacks
of their own; the **shift lead** (值班长) also approves and reassigns during a shift and sees
every queue; the **supervisor** may do everything; the **quality inspector** (质检员) reads
everyone's work and scores it, sees personal data masked and never reveals it, and moves no
case. `PERMISSIONS` names, for each action the roles divide, the roles that may do it (an
action not named is everyone's); the README's table of roles is checked against it.

The data function that does an action calls `require(agent, action)` (the refusal is one
whole sentence in the agent's language), and a screen asks `may(agent, action)` in
`check_action` so the footer, the command palette and the desk's key card offer a person
only what their role can do (seat.screens.role_keys).
"""

from __future__ import annotations

from typing import Protocol

from seat.errors import PermissionDenied as PermissionDenied
from seat.i18n import N_, _
from seat.kinds import Role

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
MERGE_CUSTOMERS = "merge_customers"
CLOSE_LOOP = "close_loop"
QUALITY_SCORE = "quality.score"
MARK_MODEL_CASE = "mark_model_case"
WORK_CASES = "work_cases"
REVEAL_PERSONAL = "reveal_personal"
TAKE_CALLS = "take_calls"
EDIT_CUSTOMER = "edit_customer"

ROLES: tuple[str, ...] = (Role.AGENT, Role.SHIFT_LEAD, Role.SUPERVISOR, Role.QUALITY)
"""Every role, in the order the README and `seat agents` name them."""
ROLE_NAMES: dict[str, str] = {
    Role.AGENT: N_("agent"),
    Role.SHIFT_LEAD: N_("shift lead"),
    Role.SUPERVISOR: N_("supervisor"),
    Role.QUALITY: N_("quality inspector"),
}

ACTIONS: dict[str, str] = {
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
    MERGE_CUSTOMERS: N_("merge customers"),
    CLOSE_LOOP: N_("close an unsatisfied customer's loop"),
    QUALITY_SCORE: N_("draw and score quality spot-checks"),
    MARK_MODEL_CASE: N_("mark a case as a model"),
    WORK_CASES: N_("move a complaint, work order or callback"),
    REVEAL_PERSONAL: N_("reveal a customer's masked details"),
    TAKE_CALLS: N_("take a call or make a callback"),
    EDIT_CUSTOMER: N_("change a customer's details"),
}
"""Action key -> what the refusal says the person tried ("Only a supervisor can …")."""

_A, _L, _S, _Q = Role.AGENT, Role.SHIFT_LEAD, Role.SUPERVISOR, Role.QUALITY
PERMISSIONS: dict[str, frozenset[str]] = {
    APPROVE_SOLUTION: frozenset({_L, _S}),
    SEND_BACK: frozenset({_L, _S}),
    DECIDE_ORDER: frozenset({_L, _S}),
    APPROVE_QUOTE: frozenset({_S}),
    REASSIGN_ORDER: frozenset({_L, _S}),
    REASSIGN_CALLBACK: frozenset({_L, _S}),
    WALLBOARD: frozenset({_L, _S, _Q}),
    ALL_COMPLAINTS: frozenset({_L, _S, _Q}),
    OTHERS_QUEUE: frozenset({_L, _S, _Q}),
    AGENT_FIGURES: frozenset({_S, _Q}),
    PUBLISH_NOTICE: frozenset({_S}),
    PIN_TIER: frozenset({_S}),
    SET_OWNER: frozenset({_S}),
    MEMBER_REPORT: frozenset({_S}),
    MERGE_CUSTOMERS: frozenset({_S}),
    CLOSE_LOOP: frozenset({_S}),
    MARK_MODEL_CASE: frozenset({_S}),
    QUALITY_SCORE: frozenset({_S, _Q}),
    WORK_CASES: frozenset({_A, _L, _S}),
    REVEAL_PERSONAL: frozenset({_A, _L, _S}),
    TAKE_CALLS: frozenset({_A, _L, _S}),
    EDIT_CUSTOMER: frozenset({_A, _L, _S}),  # a quality inspector reads, never edits
}
"""Action key -> the roles that may do it. Every key of ACTIONS is here, and only those."""

SUPERVISOR_ONLY: dict[str, str] = {
    action: words for action, words in ACTIONS.items() if _A not in PERMISSIONS[action]
}
"""The actions an agent is refused (the name of old: a supervisor may do each of them)."""


class HasRole(Protocol):
    @property
    def role(self) -> str: ...


def is_supervisor(agent: HasRole) -> bool:
    return agent.role == Role.SUPERVISOR


def may(agent: HasRole | None, action: str) -> bool:
    """Whether `agent` may do `action` (a key of PERMISSIONS; any other action: yes).
    Nobody signed in and an unknown role may do none of the actions the roles divide."""
    allowed = PERMISSIONS.get(action)
    if allowed is None:
        return True
    return agent is not None and agent.role in allowed


def permissions(role: str) -> list[str]:
    """The actions of PERMISSIONS `role` may do, in the table's order."""
    return [action for action, allowed in PERMISSIONS.items() if role in allowed]


def require(agent: HasRole | None, action: str, *, what: str | None = None) -> None:
    """Raise PermissionDenied (the usual sentence) unless `agent` may do `action`; `what`
    names the action in the refusal when it says more ("decide on 'Sofa' (approve)")."""
    if not may(agent, action):
        raise PermissionDenied(refusal(action, agent, what=what))


def refusal(action: str, agent: HasRole | None = None, *, what: str | None = None) -> str:
    """The sentence a refused person reads: "Only a supervisor can …; ask your shift lead."
    for an agent (or nobody) refused what agents may not do; "A quality inspector may not …"
    for the other roles and the actions agents may do."""
    words = what if what is not None else _(ACTIONS[action])
    role = agent.role if agent is not None else Role.AGENT
    if role == Role.AGENT and Role.AGENT not in PERMISSIONS[action]:
        return _("Only a supervisor can {action}; ask your shift lead.").format(action=words)
    name = _(ROLE_NAMES[role]) if role in ROLE_NAMES else role
    return _("A {role} may not {action}.").format(role=name, action=words)


def require_supervisor(agent: HasRole, action: str) -> None:
    """Raise PermissionDenied naming the action unless the agent is a supervisor.

    `action` is already in the agent's language ("decide on 'Sofa' (approve)"); prefer
    `require()` with a PERMISSIONS key."""
    if not is_supervisor(agent):
        raise PermissionDenied(
            _("Only a supervisor can {action}; ask your shift lead.").format(action=action)
        )
