"""The client address, behind proxies we trust and only them.

Behind nginx (or a load balancer) every request arrives from the proxy's address, so
each per-address limit would count the whole service as one client. A proxy appends
the address it saw to `X-Forwarded-For`; a client can send the header too, with any
address it likes in it. So the header is read only when the request comes from a proxy
named in `TRUSTED_PROXIES`, and then from the right: each hop we trust is skipped, and
the first address we do not trust is the client (whatever it wrote left of that is its
own claim and ignored). Everyone reads the result through
`carryover.accounts.signin.client_ip(request)`, i.e. `REMOTE_ADDR`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:  # settings.py imports this module: nothing heavy at import time
    from django.http import HttpRequest, HttpResponse

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# The address the connection really came from, kept for the access log.
PEER_KEY = "carryover.peer_addr"
# No chain of proxies is this long; a longer header is a client's padding.
MAX_HOPS = 32


def parse_networks(values: Iterable[str], *, setting: str = "TRUSTED_PROXIES") -> list[Network]:
    """Addresses or CIDRs (`10.0.0.0/8`, `127.0.0.1`, `::1`) -> networks; a bad entry stops
    the process with a message naming it."""
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{setting}: {value!r} is not an IP address or CIDR (e.g. 10.0.0.0/8)"
            ) from exc
    return networks


@lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(parse_networks(values))


def parse_address(text: str) -> IPAddress | None:
    """One hop of X-Forwarded-For: `203.0.113.7`, `[2001:db8::1]:443`, `203.0.113.7:5100`
    (some balancers add the port); anything else (`unknown`, a name) is None."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, networks: tuple[Network, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]
) -> str | None:
    """The address to count and audit for a request from `peer` carrying `forwarded_for`."""
    peer_address = parse_address(peer or "")
    if peer_address is None:
        return peer or None
    if not trusted or not forwarded_for or not _trusted(peer_address, trusted):
        return str(peer_address)
    client = peer_address
    for hop in reversed(forwarded_for.split(",")[-MAX_HOPS:]):
        address = parse_address(hop)
        if address is None:
            # Not an address a proxy of ours would write: the rest is the client's claim.
            break
        client = address
        if not _trusted(address, trusted):
            break
    return str(client)


class TrustedProxyMiddleware:
    """First in MIDDLEWARE: rewrites REMOTE_ADDR to the client address (see the module)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        peer = request.META.get("REMOTE_ADDR")
        request.META[PEER_KEY] = peer
        trusted = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
        address = client_address(peer, request.META.get("HTTP_X_FORWARDED_FOR"), trusted)
        if address:
            request.META["REMOTE_ADDR"] = address
        return self.get_response(request)
