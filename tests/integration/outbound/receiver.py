"""A real HTTP receiver on loopback (aiohttp, on the test's event loop) for webhooks and team-chat
robots: it records every request, answers the statuses it is told to (then 200), and for webhooks
checks the ``Acre-Signature`` on the receiving side with ``app.outbound.signature.verify`` (a bad or
replayed signature is answered 400 and counted as rejected)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from app.outbound import signature


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    verified: bool | None  # None: no secret to check against

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    port: int = 0
    secret: str | None = None  # set once the endpoint's secret is known
    answers: list[int] = field(default_factory=list)  # statuses to answer first, in order
    received: list[Received] = field(default_factory=list)  # every request, accepted or not
    rejected: int = 0
    got: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.received if r.verified is not False and r.headers.get("x-answer") == "200"]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        verified: bool | None = None
        if self.secret is not None:
            try:
                signature.verify(self.secret, request.headers.get(signature.HEADER), body)
                verified = True
            except signature.SignatureError:
                verified = False
        status = 400 if verified is False else (self.answers.pop(0) if self.answers else 200)
        headers = {k.lower(): v for k, v in request.headers.items()} | {"x-answer": str(status)}
        self.received.append(Received(request.path, dict(request.query), headers, body, verified))
        if verified is False:
            self.rejected += 1
        self.got.set()
        return web.json_response({"errcode": 0, "code": 0, "status": status}, status=status)

    async def wait_for(self, count: int, seconds: float = 30) -> None:
        """Until ``count`` requests were accepted (answered 200 with a good signature)."""
        async with asyncio.timeout(seconds):
            while len(self.accepted) < count:
                self.got.clear()
                await self.got.wait()


@asynccontextmanager
async def receiving(**kwargs: Any) -> AsyncIterator[Receiver]:
    receiver = Receiver(**kwargs)
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    receiver.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield receiver
    finally:
        await runner.cleanup()
