"""Failed-login throttling per username (in process memory)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class LoginThrottle:
    """Allows `max_failures` failed logins per username within `window_seconds`.

    Past that, `retry_after` says how many seconds remain until the oldest
    failure leaves the window. A successful login clears the username's record.
    """

    def __init__(
        self,
        max_failures: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, username: str) -> int:
        """0 when a login may be tried now, else the whole seconds to wait."""
        key = username.lower()
        with self._lock:
            failures = self._prune(key)
            if not failures:
                del self._failures[key]  # keep memory bounded by recent failures
                return 0
            if len(failures) < self.max_failures:
                return 0
            return max(1, math.ceil(failures[0] + self.window - self._clock()))

    def record_failure(self, username: str) -> None:
        key = username.lower()
        with self._lock:
            self._prune(key).append(self._clock())

    def record_success(self, username: str) -> None:
        with self._lock:
            self._failures.pop(username.lower(), None)

    def _prune(self, key: str) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        horizon = self._clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        return failures
