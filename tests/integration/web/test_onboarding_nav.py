"""The "Get started" entry of an owner's navigation stays while a step of the onboarding checklist is
open and goes once all six are done — the page itself still answers at /onboarding. The shell's
one-query check (``app.web.checklist``) agrees with the page's ticks at every step."""

from __future__ import annotations

import re
from typing import Any

from app.documents.rendering import default_template_path
from tests.factories import company_profile, territory
from tests.helpers import Member, signup
from tests.integration.documents.test_templates_api import upload
from tests.integration.web.support import sign_in

NAV_ENTRY = re.compile(r'<li><a href="/onboarding"(?: aria-current="page")?>Get started</a></li>')


async def _state(client: Any) -> tuple[bool, bool, dict[str, str]]:
    """(entry on the home page, entry on the checklist, the checklist's ticks)."""
    home = await client.get("/")
    board = await client.get("/onboarding")
    assert home.status_code == 200 and board.status_code == 200
    ticks = dict(re.findall(r'id="step-(\w+)" data-done="(yes|no)"', board.text))
    assert len(ticks) == 6
    return bool(NAV_ENTRY.search(home.text)), bool(NAV_ENTRY.search(board.text)), ticks


async def _template(client: Any, owner: Member) -> None:
    r = await upload(client, owner, default_template_path("contract", "zh-CN").read_bytes())
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/templates/{r.json()['id']}/activate", headers=owner.headers)
    assert r.status_code == 200, r.text


async def test_the_entry_goes_once_every_step_is_done(client):
    owner = await signup(client)
    product = {"sku": "ERP-1", "name": "ERP", "unit": "seat", "list_price": "100", "floor_price": "80"}
    steps = [
        lambda: company_profile(client, owner),
        lambda: territory(client, owner, "苏州市"),
        lambda: client.post(
            "/api/v1/invitations", json={"email": "rep@example.com", "role": "rep"}, headers=owner.headers
        ),
        lambda: client.put("/api/v1/pool-rules", json={"owned_cap": 40}, headers=owner.headers),
        lambda: client.post("/api/v1/products", json=product, headers=owner.headers),
        lambda: _template(client, owner),
    ]
    await sign_in(client, owner)
    on_home, on_board, ticks = await _state(client)
    assert on_home and on_board and set(ticks.values()) == {"no"}
    for n, step in enumerate(steps, start=1):
        result = await step()
        if hasattr(result, "status_code"):
            assert result.status_code in (200, 201), result.text
        on_home, on_board, ticks = await _state(client)
        assert list(ticks.values()).count("yes") == n, ticks
        complete = n == len(steps)
        assert on_home is on_board is (not complete), (n, ticks)

    board = await client.get("/onboarding")  # still reachable by its address
    assert "6 of 6 steps done" in board.text and "<h1>Get started</h1>" in board.text
    settings = await client.get("/settings")
    assert 'href="/onboarding"' in settings.text  # and linked from the settings page
    assert not NAV_ENTRY.search(settings.text)
