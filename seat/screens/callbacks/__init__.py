"""Callbacks: the callbacks view (queue, rules, coverage) and its forms."""
