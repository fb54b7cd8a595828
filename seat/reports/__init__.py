"""Reports: each module here offers `tables(*, session, date_from, date_to, settings, now)`.

The command line (`seat report NAME --from --to --format`) and the statistics screens both
call that function, so the screen and the export always show the same numbers.
"""

REPORTS = ("complaints", "callbacks", "summary", "agents", "members", "quality", "cases")
# Reports that name customers: the command asks who runs it, logs the use, and masks phones
# and addresses for anyone but a supervisor (seat.cli_identity).
PERSONAL_REPORTS = frozenset({"callbacks", "members", "cases"})
# Reports offered in fewer formats than csv, xlsx, json and txt (the first is the default).
REPORT_FORMATS = {"cases": ("txt", "xlsx")}
