"""Tests of the internal backtester."""
