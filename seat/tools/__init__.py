"""Tools beside the seat: the demo desk and the bench (not imported by the running seat)."""
