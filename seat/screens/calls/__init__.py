"""The call: the call screen, finding and editing the caller, revealing masked data."""
