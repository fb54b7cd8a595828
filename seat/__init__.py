"""seat: a keyboard-driven call-center seat."""

__version__ = "0.1.0"
