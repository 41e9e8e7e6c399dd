"""Backtests launched through the API: run by the internal backtester in worker processes."""
