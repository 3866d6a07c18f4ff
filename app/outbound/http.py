"""The one HTTP client that posts webhooks and team-chat messages (per event loop: the worker has one)."""

from __future__ import annotations

import asyncio

import httpx

TIMEOUT_SECONDS = 10.0
_clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}


def client() -> httpx.AsyncClient:
    """The running loop's client (made on first use): no redirects followed (a redirect could point
    inside the network), 10 s per request."""
    loop = asyncio.get_running_loop()
    found = _clients.get(loop)
    if found is None or found.is_closed:
        for other in [k for k in _clients if k.is_closed()]:
            del _clients[other]
        found = _clients[loop] = httpx.AsyncClient(
            timeout=TIMEOUT_SECONDS,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            headers={"User-Agent": "Acre-Webhooks/1"},
        )
    return found
