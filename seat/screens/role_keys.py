"""Keys by role: a binding the person's role may not use is not offered, and pressing it
anyway says why instead of doing nothing.

A screen lists its role-bound actions in `ROLE_ACTIONS` (action name -> the key of
`roles.PERMISSIONS`) and starts its `check_action` with `if not self.role_allows(action):
return False`: Textual then leaves the binding out of the footer, the key panel and the
command palette, and does not run it. The domain refuses the action as well (roles.require).
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.actions import parse as parse_action

from seat import roles
from seat.i18n import _
from seat.kinds import Role
from seat.widgets.door import SeatNode


class RoleKeys(SeatNode):
    """Mix into a Screen (before it in the bases) that has supervisor-only bindings."""

    ROLE_ACTIONS: ClassVar[dict[str, str]] = {}
    """Action name (without arguments) -> roles.PERMISSIONS key."""

    def role_allows(self, action: str) -> bool:
        """Whether the signed-in person may use `action` (any action not listed: yes)."""
        if "(" in action:  # the command palette asks with the binding's whole action text
            action = parse_action(action)[1]
        key = self.ROLE_ACTIONS.get(action)
        return key is None or roles.may(getattr(self.app, "agent", None), key)

    def on_key(self, event: events.Key) -> None:
        """A hidden supervisor key pressed by an agent: say so (nothing else happens)."""
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            name = parse_action(binding.action)[1]
            key = self.ROLE_ACTIONS.get(name)
            if key is not None and not self.role_allows(name):
                event.stop()
                event.prevent_default()
                agent = getattr(self.app, "agent", None)
                message = roles.refusal(key, agent)
                title = (
                    _("Supervisor only")
                    if agent is None or agent.role == Role.AGENT
                    else _("Not for your role")
                )
                self.notify(message, title=title, severity="error")
                return
