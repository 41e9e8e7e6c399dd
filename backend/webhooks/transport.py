"""One HTTP POST of a delivery, to the address that was checked (backend/webhooks/addresses.py).

The connection goes to `Target.address`, never to a second resolution of the name; TLS
still checks the certificate against the URL's host name (SNI and hostname verification).
Redirects are not followed (a 3xx is a failure that says where it pointed), the whole
attempt is bounded by one deadline, and at most `MAX_RESPONSE_BYTES` of the answer is read.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from backend import __version__
from backend.webhooks.addresses import Target

MAX_RESPONSE_BYTES = 4096  # read from the answer, for the delivery log
EXCERPT_CHARS = 500
USER_AGENT = f"Fillbook-Webhooks/{__version__}"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None
    excerpt: str | None
    error: str | None


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = target.address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def post(
    target: Target,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    tls: ssl.SSLContext | None = None,
) -> Outcome:
    """POST `body` to `target` within `timeout` seconds; what came back, or why not."""
    deadline = time.monotonic() + timeout
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPS(target, timeout, tls or ssl.create_default_context())
    else:
        connection = _PinnedHTTP(target, timeout)
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "Connection": "close",
                **headers,
            },
        )
        _bound(connection, deadline)
        response = connection.getresponse()
        _bound(connection, deadline)
        answer = response.read(MAX_RESPONSE_BYTES)
        excerpt = answer.decode("utf-8", "replace")[:EXCERPT_CHARS] or None
        status = response.status
        if 200 <= status < 300:
            return Outcome(True, status, excerpt, None)
        if 300 <= status < 400:
            where = response.getheader("Location", "")[:200]
            return Outcome(
                False, status, excerpt, f"redirects are not followed: {status} to {where!r}"
            )
        return Outcome(False, status, excerpt, f"the endpoint answered {status}")
    except TimeoutError:
        return Outcome(False, None, None, f"no answer within {timeout:g} s")
    except ssl.SSLError as exc:
        return Outcome(False, None, None, f"TLS failed: {exc}")
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(False, None, None, f"{type(exc).__name__}: {exc}"[:500])
    finally:
        connection.close()


def _bound(connection: http.client.HTTPConnection, deadline: float) -> None:
    """What is left of the attempt's deadline becomes the socket's timeout."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    if connection.sock is not None:
        connection.sock.settimeout(left)
