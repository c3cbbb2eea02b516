"""Where a webhook may be sent: the client's own public endpoint, nowhere else.

- ``check_url`` (at registration and again at send time): http or https only, a host,
  no ``user:pass@``; an address written as an IP (in any notation ``inet_aton`` reads:
  ``2130706433``, ``0x7f.1``, ``127.1``, ``[::ffff:127.0.0.1]``) must be public.
- ``GuardedBackend`` (at send time): the host is resolved when the connection is
  made, every address it resolves to must be public, and the connection goes to the
  address that was checked, so DNS rebinding between check and connect does not help.
  TLS still verifies the certificate for the URL's host name.

Public means ``ipaddress``'s ``is_global`` and not multicast, after unwrapping
IPv4-mapped IPv6 (``::ffff:10.0.0.1``): loopback, private (RFC 1918, ULA), link-local
(``169.254.169.254``, the cloud metadata address), shared (100.64/10), multicast,
unspecified (``0.0.0.0``) and reserved ranges are refused unless a network in
``allowed_networks`` (``MODERATION_REVIEW_WEBHOOK_ALLOWED_NETWORKS``) contains them.
"""
from __future__ import annotations

import ipaddress
import socket
from typing import Iterable
from urllib.parse import urlsplit

import httpcore

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TargetRefused(ValueError):
    """The URL or the address it resolves to may not receive webhooks."""


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def address_allowed(address: IpAddress, allowed: tuple[Network, ...] = ()) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in allowed if network.version == address.version):
        return True
    return address.is_global and not address.is_multicast


def literal_address(host: str) -> IpAddress | None:
    """The IP a host name spells, in any notation the C resolver accepts, or None for a name."""
    bare = host.strip("[]")
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    try:  # 2130706433, 0x7f000001, 0177.0.0.1, 127.1: inet_aton reads them all as IPv4
        return ipaddress.IPv4Address(socket.inet_aton(bare))
    except (OSError, ValueError):
        return None


def check_url(url: str, allowed: tuple[Network, ...] = ()) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("only http and https URLs receive webhooks")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise TargetRefused("the URL may not carry credentials (user:pass@); authenticate by the signature")
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    address = literal_address(parts.hostname)
    if address is not None and not address_allowed(address, allowed):
        raise TargetRefused(f"{address} is not a public address")
    if parts.hostname.rstrip(".").lower() in ("localhost", "localhost.localdomain") or \
            parts.hostname.rstrip(".").lower().endswith(".localhost"):
        if not any(ipaddress.ip_address("127.0.0.1") in n for n in allowed if n.version == 4):
            raise TargetRefused("localhost is not a public address")


def resolve_public(host: str, port: int, allowed: tuple[Network, ...] = ()) -> list[str]:
    """Every address ``host`` resolves to, all of them allowed, or TargetRefused."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TargetRefused(f"cannot resolve {host}: {exc.strerror}") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    refused = [a for a in addresses if not address_allowed(ipaddress.ip_address(a.split("%")[0]), allowed)]
    if refused or not addresses:
        raise TargetRefused(f"{host} resolves to an address that is not public ({', '.join(refused[:3])})")
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the address check made at connect time."""

    def __init__(self, allowed: tuple[Network, ...] = ()) -> None:
        self.allowed = allowed
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        import anyio

        addresses = await anyio.to_thread.run_sync(resolve_public, host, port, self.allowed)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        raise last_error or httpcore.ConnectError(f"cannot connect to {host}")

    async def connect_unix_socket(self, *args, **kwargs):
        raise TargetRefused("webhooks are not sent over unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
