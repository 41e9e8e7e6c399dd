"""The journal tests' trades (tests/playbooks/helpers.py)."""

from tests.playbooks.helpers import runs, trade_kernel

__all__ = ["runs", "trade_kernel"]
