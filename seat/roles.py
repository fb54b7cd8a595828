"""Who may do what. Pure: screens and data functions ask here before acting."""

from __future__ import annotations

from typing import Protocol

from seat.i18n import _
from seat.models import Role


class HasRole(Protocol):
    @property
    def role(self) -> str: ...


class PermissionDenied(PermissionError):
    """A supervisor action attempted by an agent; the message is for the agent."""


def is_supervisor(agent: HasRole) -> bool:
    return agent.role == Role.SUPERVISOR


def require_supervisor(agent: HasRole, action: str) -> None:
    """Raise PermissionDenied naming the action unless the agent is a supervisor."""
    if not is_supervisor(agent):
        raise PermissionDenied(
            _("Only a supervisor can {action}; ask your shift lead.").format(action=action)
        )
