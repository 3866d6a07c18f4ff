"""Which URLs Acre posts to (webhook endpoints, team-chat robots): http or https only, and never an
address inside the network Acre runs in (SSRF): loopback, private, link-local, reserved. The check
runs when a URL is saved (a literal address, ``localhost``) and again before each post (every address
the host name resolves to, so a name that later points inside is refused too). Outside production,
``ACRE_WEBHOOK_ALLOW_LOOPBACK`` lets loopback through (tests and development post to local receivers);
private ranges stay refused everywhere."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from app.errors import ValidationFailed
from app.i18n import N_
from app.settings import get_settings

M_SCHEME = N_("Use an http:// or https:// address")
M_HOST = N_("This address is not reachable from Acre (a loopback, private or reserved network)")
MAX_LENGTH = 2000


class RefusedAddress(Exception):
    """The URL's host is (or resolves to) an address Acre does not post to."""


def _loopback_allowed() -> bool:
    settings = get_settings()
    return settings.environment != "production" and settings.webhook_allow_loopback


def refused(address: str) -> bool:
    """True for an IP address Acre must not post to."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return not _loopback_allowed()
    return not ip.is_global or ip.is_multicast


def check_url(field: str, url: str) -> str:
    """``url`` stripped, or 422 on ``field``: not http(s), no host, or a literal refused address."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_LENGTH:
        raise ValidationFailed.field(field, M_SCHEME)
    host = parts.hostname
    if host == "localhost" or host.endswith(".localhost"):
        host = "127.0.0.1"
    try:
        if refused(host):
            raise ValidationFailed.field(field, M_HOST)
    except ValueError:  # a name, not an address: resolved (and checked) before each post
        pass
    return url


async def check_resolved(url: str) -> None:
    """Raise :class:`RefusedAddress` when ``url``'s host resolves to any refused address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedAddress(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise RefusedAddress(f"cannot resolve {parts.hostname}: {exc}") from None
    for info in infos:
        address = str(info[4][0])
        if refused(address.split("%", 1)[0]):
            raise RefusedAddress(f"{parts.hostname} resolves to {address}, which Acre does not post to")
