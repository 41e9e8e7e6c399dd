"""Tests of backend/backtests: launching backtests through the API."""
