"""The one table widget of the seat: Textual's DataTable, with its column widths kept honest.

Textual's DataTable measures new rows when it goes idle, widens its columns, and keeps
rendered lines in caches keyed by an update counter. The measuring does not advance that
counter, so a line drawn between `add_rows` and the idle pass (a busy machine paints in
between) is drawn again from the cache with the header-only widths: a value column showed
"Deliv" for "Delivery 送货" until something else changed. Advancing the counter after the
measuring makes the next paint use the new widths.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.widgets import DataTable
from textual.widgets.data_table import RowKey


class SeatTable(DataTable[Any]):
    """A DataTable whose rendered lines never outlive a change of column widths."""

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        widths = [column.content_width for column in self.ordered_columns]
        label = self._label_column.content_width
        super()._update_dimensions(new_rows)
        if label != self._label_column.content_width or widths != [
            column.content_width for column in self.ordered_columns
        ]:
            self._update_count += 1  # every render cache of DataTable is keyed by it
            self.refresh()
