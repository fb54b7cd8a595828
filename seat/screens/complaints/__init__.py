"""Complaints: the complaint screen, its forms, the list and the statistics."""
