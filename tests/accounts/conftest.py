"""The accounts tests derive trades through the real pipeline (tests/playbooks/helpers.py)."""

from tests.playbooks.helpers import trade_kernel

__all__ = ["trade_kernel"]
