"""The customer card: who is calling, their tier and open work, their last calls, changes.

Outside the customer's own call the card is masked: phone numbers and addresses (also in
the change history) show as 138****1234 until revealed with a reason.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime

from rich.cells import cell_len, split_graphemes
from rich.text import Text
from textual.widgets import Static

from seat import complaints, labels, merge, privacy
from seat.customers import ChangeLine, CustomerCard
from seat.i18n import N_, _, format_date, format_datetime
from seat.purchases import PurchaseSummary
from seat.widgets.door import Seated

TIER_STYLE = {
    "vip": "bold magenta",
    "diamond": "bold cyan",
    "platinum": "bold",
    "gold": "bold yellow",
}
FIELD_LABELS = {
    "name": N_("name"),
    "phone": N_("phone"),
    "address": N_("address"),
    "second_address": N_("2nd address"),
    "tier": N_("tier"),
    "language": N_("language"),
    "tier_rule": N_("tier rule"),
    "tier_pin": N_("tier pin"),
    "owner": N_("owner"),
    "gender": N_("gender"),
    "birthday": N_("birthday"),
    "occupation": N_("occupation"),
    "merged_from": N_("merged in"),
    "merged_into": N_("merged into"),
}
HISTORY_LINES = 3
SUMMARY_CELLS = 30
"""How much of a complaint's or work order's text the card shows, in cells (CJK: 2)."""


def cut(text: str, cells: int) -> str:
    """At most `cells` terminal cells of `text`, ending in "…" when it was cut; a wide
    character or an emoji sequence is never cut in half."""
    used = 0
    fits = 0  # where the text is cut to leave a cell for "…"
    for __, end, width in split_graphemes(text)[0]:
        used += width
        if used <= cells - 1:
            fits = end
        elif used > cells:
            return text[:fits] + "…"
    return text


def summary(text: str, cells: int = SUMMARY_CELLS) -> str:
    """A complaint's, order's or item's text as one line of at most `cells` cells: line breaks
    and runs of spaces become one space, '…' where it was cut (never half a character)."""
    flat = " ".join(text.split())
    if cell_len(flat) <= cells:
        return flat
    return cut(flat, cells)  # cut() leaves a cell for the "…" it ends in


def code_word(table: dict[str, str], code: str | None) -> str:
    """A stored code (need, outcome, tier) as its word in the current language, never the
    code itself ("complaint opened", not complaint_opened)."""
    return labels.label(table, code)


def complaint_status(status: str) -> str:
    """A complaint's status on the card, in words."""
    return complaints.status_label(status)


def call_summary(need: str | None, outcome: str | None) -> str:
    """What a past call was about and how it ended; a call that recorded neither says so
    (never "- → -")."""
    if not need and not outcome:
        return _("nothing recorded")
    unknown = _("not recorded")
    return (
        f"{labels.label(labels.NEEDS, need, unknown)} → "
        f"{labels.label(labels.OUTCOMES, outcome, unknown)}"
    )


def addresses_line(
    addresses: Iterable[str | None], shown: Callable[[str | None], str]
) -> str:
    """" · address" for each address that shows as something: never a lone "·" for an
    address that is missing, blank, or masked to nothing."""
    parts = [text for a in addresses if a and (text := shown(a).strip())]
    return "".join(f" · {text}" for text in parts)


def money(amount: float) -> str:
    """¥1,234.50 (both languages write yuan so)."""
    return f"¥{amount:,.2f}"


def purchases_text(bought: PurchaseSummary, local: Callable[[datetime], datetime]) -> Text:
    """The totals (12 months, lifetime) and the last purchases, newest first."""
    t = Text()
    t.append(_("Purchases:"), style="bold")
    t.append(
        " "
        + _("12 months {spend} ({n})").format(spend=money(bought.spend_12m), n=bought.count_12m)
        + " · "
        + _("lifetime {spend} ({n})").format(
            spend=money(bought.spend_total), n=bought.count_total
        )
    )
    for line in bought.last:
        t.append("\n  ")
        t.append(f"{format_date(local(line.purchased_at).date(), 'medium')} ", style="dim")
        quantity = f"{line.quantity:g}"
        t.append(f"{summary(line.item)} ×{quantity} {money(line.amount)}")
        if line.delivered_at is not None:
            delivered = format_date(local(line.delivered_at).date(), "short")
            t.append(" · " + _("delivered {date}").format(date=delivered), style="dim")
    return t
def phones_line(
    phones: Sequence[str], kinds: Sequence[str], shown: Callable[[str | None], str]
) -> str:
    """Every number of the customer as shown (masked or not); with several, each says its
    kind ("138****8000 mobile / 021****5678 home")."""
    if len(phones) < 2 or len(kinds) != len(phones):
        return " / ".join(shown(p) for p in phones)
    return " / ".join(
        f"{shown(p)} {labels.label(labels.PHONE_KINDS, k, k)}"
        for p, k in zip(phones, kinds, strict=True)
    )


class CustomerCardView(Seated, Static):
    DEFAULT_CSS = """
    CustomerCardView { border: round $primary; padding: 0 1; height: auto; }
    """

    def show_card(
        self,
        card: CustomerCard | None,
        *,
        number: str = "",
        note: str = "",
        masked: bool = False,
        revealed: Collection[str] = (),
    ) -> None:
        """Show a card; `masked` hides phones and addresses except the kinds in `revealed`."""
        desk = self.services
        region = desk.settings.region

        def phone_text(e164: str | None) -> str:
            if masked and "phone" not in revealed:
                return privacy.mask_phone(e164, region)
            return desk.display_phone(e164)

        def address_text(address: str | None) -> str:
            if masked and "address" not in revealed:
                return privacy.mask_address(address)
            return address or ""

        if card is None:
            self.border_title = _("Unknown caller")
            self.update(
                Text(note or _("{number} is not on file.").format(number=number), style="italic")
            )
            return
        self.border_title = f"{card.name} · #{card.id}"
        t = Text()
        t.append(labels.label(labels.TIERS, card.tier).upper(), style=TIER_STYLE.get(card.tier, ""))
        t.append(" " + _("level {n}").format(n=card.level))
        if card.birthday:
            born = _("born {date}").format(date=format_date(card.birthday, "medium"))
            t.append(" · " + born, style="dim")
        t.append("\n")
        t.append(phones_line(card.phones, card.phone_kinds, phone_text))
        t.append(addresses_line((card.address, card.second_address), address_text), style="dim")
        t.append("\n")
        if card.open_complaints:
            t.append(
                _("Complaints open: {n}").format(n=len(card.open_complaints)), style="bold red"
            )
            first = card.open_complaints[0]
            status = complaint_status(first[1])
            t.append(f" (#{first[0]} {status}: {summary(first[2])})")
        else:
            t.append(_("No open complaints"), style="dim")
        t.append("\n")
        if card.open_work_orders:
            t.append(_("Work orders open: {n}").format(n=len(card.open_work_orders)), style="bold")
            wo = card.open_work_orders[0]
            urgent = " " + _("URGENT") if wo[3] else ""
            t.append(f" (#{wo[0]}{urgent} {summary(wo[2])})")
        else:
            t.append(_("No open work orders"), style="dim")
        if card.purchases.count_total:
            t.append("\n")
            t.append_text(purchases_text(card.purchases, desk.local))
        for c in card.last_calls[:3]:
            t.append("\n")
            when = desk.local(c.started_at)
            t.append(f"{format_date(when, 'medium')} ", style="dim")
            t.append(f"{call_summary(c.need_category, c.outcome)} ({c.agent})")
        if not card.last_calls:
            t.append("\n" + _("First call on file"), style="dim")
        if card.change_count:
            t.append("\n")
            t.append(_("Changes: {n}, newest first").format(n=card.change_count), style="bold")
            for line in card.changes[:HISTORY_LINES]:
                t.append("\n")
                t.append_text(self._change_line(line, desk.local, phone_text, address_text))
        self.update(t)

    @staticmethod
    def _change_line(
        line: ChangeLine,
        local: Callable[[datetime], datetime],
        phone_text: Callable[[str | None], str],
        address_text: Callable[[str | None], str],
    ) -> Text:
        def value(v: str | None) -> str:
            if v is None or v == "":
                return "-"
            if line.field == "phone":
                return phone_text(v)
            if line.field in ("address", "second_address"):
                return address_text(v)
            if line.field == "tier":
                return code_word(labels.TIERS, v)
            if line.field == "language":
                return labels.language_label(v)
            if line.field == "gender":
                return code_word(labels.GENDERS, v)
            if line.field in (merge.MERGED_FROM, merge.MERGED_INTO):
                return merge.describe(v)
            return v

        when = local(line.at)
        t = Text()
        t.append(f"{format_datetime(when, 'medium')} ", style="dim")
        t.append(f"{line.agent or _('import')}: ", style="bold")
        t.append(f"{_(FIELD_LABELS.get(line.field, line.field))} ")
        t.append(value(line.old), style="dim strike")
        t.append(" → ")
        t.append(value(line.new))
        return t
