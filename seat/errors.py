"""The domain's errors, in one place: what a screen or a command may catch and show.

Every message is for the person at the seat (translated where it is raised); none carries a
traceback. The modules that raise them import them from here.
"""

from __future__ import annotations

from seat.i18n import _


class ValidationError(ValueError):
    """Bad input; `errors` maps a field name to a message for the agent ("_": the form)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class DuplicatePhone(ValidationError):
    """The number already belongs to another customer."""

    def __init__(self, e164: str, customer_id: int) -> None:
        super().__init__(
            {"phone": _("{e164} is already on file (customer #{id}).").format(
                e164=e164, id=customer_id
            )}
        )  # fmt: skip
        self.e164 = e164
        self.customer_id = customer_id


class Stale(ValidationError):
    """Another seat changed the record between this one reading and writing it (a lost
    conditional UPDATE); the screen reloads and the agent tries again."""


class StaleOrder(Stale):
    """Another seat changed the work order since it was shown."""

    def __init__(self) -> None:
        super().__init__(
            {"_": _("Someone changed this order a moment ago; it was reloaded. Check and retry.")}
        )


class StaleCallback(Stale):
    """Another seat changed the callback between this one reading and writing it."""

    def __init__(self, callback_id: int) -> None:
        super().__init__(
            {
                "_": _(
                    "Callback #{id} was changed at another seat meanwhile; "
                    "it was reloaded. Check and try again."
                ).format(id=callback_id)
            }
        )


class StaleCustomer(Stale):
    """Another seat changed (or merged) the customer between this one reading and writing."""

    def __init__(self, customer_id: int | None) -> None:
        super().__init__(
            {"customer": _(
                "Customer #{id} was changed at another seat meanwhile; look again and retry."
            ).format(id=customer_id)}
        )  # fmt: skip
        self.customer_id = customer_id


class MoveRefused(ValueError):
    """A move that the record's state does not allow; the message is for the agent."""


class StaleComplaint(MoveRefused):
    """Another seat moved the complaint between this one reading and writing it (a lost
    conditional UPDATE); refused like any other move the complaint no longer allows."""

    def __init__(self, complaint_id: int) -> None:
        super().__init__(
            _("Complaint #{id} was changed at another seat meanwhile; try again.").format(
                id=complaint_id
            )
        )


class PermissionDenied(PermissionError):
    """A supervisor action attempted by an agent; the message is for the agent."""


class PolicyError(ValueError):
    """A policy file (complaints, callbacks, work orders) cannot be used; the message names
    the file and the problem."""


class StorageError(RuntimeError):
    """The database refused the work; the message is for the agent, the data is kept."""
