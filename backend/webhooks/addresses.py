"""Where a webhook may be sent: the SSRF rules. No database, no web framework.

A URL is checked when it is registered and again at every send, and the sender connects
to the very address that was checked (never resolving the name twice), so a name that
resolves to a public address at registration and to 127.0.0.1 later (DNS rebinding)
is refused at the send. Only `https`, and only public unicast addresses: loopback,
private, shared (CGNAT), link-local, multicast, reserved, unspecified and documentation
ranges are refused, IPv4 and IPv6 alike, and IPv6 forms that carry an IPv4 address
(IPv4-mapped `::ffff:a.b.c.d`, 6to4, Teredo, NAT64) are judged by that IPv4 address.

An admin relaxes this for tests and self-hosting: `WEBHOOK_ALLOW_PRIVATE=1` allows `http`
and every address; `WEBHOOK_ALLOWED_HOSTS=a.example,10.0.0.5` allows them for those hosts.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_CHARS = 2000
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class RefusedAddress(ValueError):
    """The URL or the address it resolves to is not one webhooks may be sent to."""


@dataclass(frozen=True)
class Policy:
    allow_private: bool = False
    allowed_hosts: frozenset[str] = frozenset()

    def allows_any(self, host: str) -> bool:
        return self.allow_private or host.lower() in self.allowed_hosts


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`address`) and what to ask for there."""

    scheme: str
    host: str  # as written in the URL: the Host header and the TLS server name
    port: int
    path: str  # path and query
    address: str  # the resolved, checked IP address to connect to


@dataclass(frozen=True)
class ParsedUrl:
    scheme: str
    host: str
    port: int
    path: str


def parse_url(url: str, policy: Policy) -> ParsedUrl:
    """The parts of `url`, or RefusedAddress naming what is wrong with it."""
    if len(url) > MAX_URL_CHARS:
        raise RefusedAddress(f"url is {len(url)} characters; at most {MAX_URL_CHARS}")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise RefusedAddress(f"url must start with https://, got {url[:40]!r}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise RefusedAddress(f"url has an invalid port: {exc}") from None
    if not host:
        raise RefusedAddress(f"url has no host: {url[:80]!r}")
    if parts.username is not None or parts.password is not None:
        raise RefusedAddress("url must not carry a user name or password")
    if parts.fragment:
        raise RefusedAddress("url must not have a #fragment")
    if scheme == "http" and not policy.allows_any(host):
        raise RefusedAddress(
            f"url must use https, got http://{host}: plain http is only allowed when an admin "
            "sets WEBHOOK_ALLOW_PRIVATE or lists the host in WEBHOOK_ALLOWED_HOSTS"
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return ParsedUrl(scheme, host, port or (443 if scheme == "https" else 80), path)


def refusal(address: IPAddress) -> str | None:
    """Why webhooks may not go to `address`, or None when it is a public unicast address."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        why = refusal(embedded)
        return None if why is None else f"{why} (inside the IPv6 address {address})"
    checks = (
        (address.is_loopback, "a loopback address"),
        (address.is_unspecified, "the unspecified address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    )
    for refused, why in checks:
        if refused:
            return f"{address} is {why}"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (A and AAAA), in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedAddress(f"cannot resolve {host!r}: {exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check(url: str, policy: Policy, resolve: Resolver = system_resolver) -> Target:
    """`url` checked, with the address to connect to; RefusedAddress says why not.

    Every address the host resolves to must be allowed (a name with one private address
    among public ones is refused: which one a client picks is not ours to know).
    """
    parsed = parse_url(url, policy)
    literal = _literal(parsed.host)
    addresses = [literal] if literal is not None else _addresses(resolve(parsed.host, parsed.port))
    if not addresses:
        raise RefusedAddress(f"{parsed.host!r} resolves to no address")
    if not policy.allows_any(parsed.host):
        for address in addresses:
            why = refusal(address)
            if why is not None:
                raise RefusedAddress(
                    f"webhooks are not sent to {parsed.host}: {why}; an admin may allow it with "
                    "WEBHOOK_ALLOW_PRIVATE=1 or WEBHOOK_ALLOWED_HOSTS"
                )
    return Target(parsed.scheme, parsed.host, parsed.port, parsed.path, str(addresses[0]))


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _addresses(values: Iterable[str]) -> list[IPAddress]:
    found: list[IPAddress] = []
    for value in values:
        try:
            found.append(ipaddress.ip_address(value.split("%", 1)[0]))  # drop a zone id
        except ValueError:
            raise RefusedAddress(f"the resolver returned {value!r}, not an address") from None
    return found
