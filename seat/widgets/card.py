"""The customer card: who is calling, their tier and open work, their last calls."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from seat.customers import CustomerCard

TIER_STYLE = {
    "vip": "bold magenta",
    "diamond": "bold cyan",
    "platinum": "bold",
    "gold": "bold yellow",
}


class CustomerCardView(Static):
    DEFAULT_CSS = """
    CustomerCardView { border: round $primary; padding: 0 1; height: auto; }
    """

    def show_card(self, card: CustomerCard | None, *, number: str = "", note: str = "") -> None:
        desk = self.app.desk  # type: ignore[attr-defined]
        if card is None:
            self.border_title = "Unknown caller"
            self.update(Text(note or f"{number} is not on file.", style="italic"))
            return
        self.border_title = f"{card.name} · #{card.id}"
        t = Text()
        t.append(f"{card.tier.upper()}", style=TIER_STYLE.get(card.tier, ""))
        t.append(f" level {card.level}")
        if card.birthday:
            t.append(f" · born {card.birthday:%Y-%m-%d}", style="dim")
        t.append("\n")
        t.append(" / ".join(desk.display_phone(p) for p in card.phones))
        if card.address:
            t.append(f" · {card.address}", style="dim")
        t.append("\n")
        if card.open_complaints:
            t.append(f"Complaints open: {len(card.open_complaints)}", style="bold red")
            first = card.open_complaints[0]
            t.append(f" (#{first[0]} {first[1]}: {first[2][:30]})")
        else:
            t.append("No open complaints", style="dim")
        t.append("\n")
        if card.open_work_orders:
            t.append(f"Work orders open: {len(card.open_work_orders)}", style="bold")
            wo = card.open_work_orders[0]
            t.append(f" (#{wo[0]}{' URGENT' if wo[3] else ''} {wo[2][:30]})")
        else:
            t.append("No open work orders", style="dim")
        for c in card.last_calls[:3]:
            t.append("\n")
            when = desk.local(c.started_at)
            t.append(f"{when:%Y-%m-%d} ", style="dim")
            t.append(f"{c.need_category or '-'} → {c.outcome or '-'} ({c.agent})")
        if not card.last_calls:
            t.append("\nFirst call on file", style="dim")
        self.update(t)
