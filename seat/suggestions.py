"""Suggestions (意见和建议)."""
