"""The 撞单 check says who owns a company, so it is limited per client address (its own bucket): a rep
typing a name is never stopped, a script walking the market is — through the API and the page alike."""

from __future__ import annotations

from typing import Any

from tests.helpers import client_at, limited_app, random_ip, signup

LIMIT = 3


async def test_the_duplicate_check_answers_429_past_its_limit(client: Any, app: Any) -> None:
    owner = await signup(client)
    limited = limited_app(app, "ACRE_LOOKUP_RATE_LIMIT_PER_MINUTE", LIMIT)
    async with client_at(limited, random_ip()) as hammer, client_at(limited, random_ip()) as other:
        for i in range(LIMIT):
            r = await hammer.get(
                "/api/v1/customers/duplicate-check", params={"full_name": f"公司{i}"}, headers=owner.headers
            )
            assert r.status_code == 200, r.text
        r = await hammer.get(
            "/api/v1/customers/duplicate-check", params={"full_name": "再来一家"}, headers=owner.headers
        )
        assert r.status_code == 429 and "retry-after" in r.headers
        page = await hammer.get(
            "/customers/duplicate-check",
            params={"full_name": "再来一家"},
            headers={"Cookie": owner.headers.get("Cookie", ""), **owner.headers},
        )
        assert page.status_code == 429  # the page's live check counts in the same bucket
        r = await other.get(
            "/api/v1/customers/duplicate-check", params={"full_name": "公司0"}, headers=owner.headers
        )
        assert r.status_code == 200  # another address is not affected
