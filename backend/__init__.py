"""Fillbook: a push-based trade journal and strategy analytics service."""

__version__ = "0.1.0"
