"""API keys for the lead tests: made through the API as the owner."""

from __future__ import annotations

from typing import Any

from tests.helpers import Member

ALL_SCOPES = ["leads:write", "customers:read", "deals:read", "territories:read"]


async def api_key(
    client: Any, owner: Member, scopes: list[str] | None = None, name: str = "网站"
) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/api-keys", json={"name": name, "scopes": scopes or ALL_SCOPES}, headers=owner.headers
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def bearer(key: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {key['secret']}"}
