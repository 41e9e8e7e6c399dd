"""In-process fan-out of live updates to each user's WebSocket clients.

Publishers are threads (the ingest writer, the derivation runner); subscribers
are asyncio tasks. Each client has a bounded queue: a client that stops reading
loses its oldest messages and is told so, instead of growing memory without end.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

QUEUE_SIZE = 1000
# Published to a user's clients when a key is revoked or the user changed by an admin:
# each open stream re-checks its credential at once (and closes if it no longer holds)
# instead of at its next periodic check. Not forwarded to clients.
CREDENTIALS_CHANGED = "credentials_changed"


def credentials_changed() -> dict[str, Any]:
    return {"type": CREDENTIALS_CHANGED}


@dataclass(eq=False)
class Subscription:
    user_id: int
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[dict[str, Any]] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE)
    )
    dropped: int = 0

    def offer(self, message: dict[str, Any]) -> None:
        """Runs on the subscriber's loop."""
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(message)


class Broker:
    def __init__(self) -> None:
        self._subscriptions: dict[int, set[Subscription]] = defaultdict(set)
        self._lock = threading.Lock()

    def subscribe(self, user_id: int) -> Subscription:
        subscription = Subscription(user_id, asyncio.get_running_loop())
        with self._lock:
            self._subscriptions[user_id].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions[subscription.user_id].discard(subscription)

    def client_count(self) -> int:
        with self._lock:
            return sum(len(subs) for subs in self._subscriptions.values())

    def publish(self, user_id: int, message: dict[str, Any]) -> None:
        """Deliver to every client of `user_id`; safe to call from any thread."""
        with self._lock:
            targets = list(self._subscriptions.get(user_id, ()))
        for subscription in targets:
            try:
                subscription.loop.call_soon_threadsafe(subscription.offer, message)
            except RuntimeError:  # its loop has closed; it will be unsubscribed
                continue
