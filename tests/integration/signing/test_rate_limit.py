"""The signing link is rate-limited per client address, in a bucket of its own: past the limit the page
and its form posts answer 429 with a readable page (and change nothing); other clients, and the page
images, are unaffected."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from tests.helpers import limited_app, run_jobs, signup
from tests.integration.signing.support import link_for, make_envelope, nonce_of, ready_contract, signer


def _random_ip() -> str:
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


def _limited_app(app: Any, per_minute: int) -> Any:
    return limited_app(app, "ACRE_SIGNING_RATE_LIMIT_PER_MINUTE", per_minute)


async def test_hammering_a_signing_link_gets_429_and_a_normal_signer_is_unaffected(
    client: Any, app: Any, mailbox: Any
) -> None:
    owner = await signup(client)
    doc = await ready_contract(client, app, owner)
    a, b = signer("甲"), signer("Bob", "en")
    env = await make_envelope(client, owner, doc, [a, b], signing_order="parallel")
    await run_jobs(app)
    token_a, token_b = link_for(mailbox, a["email"]), link_for(mailbox, b["email"])
    limited = _limited_app(app, 4)

    # The counts live in Redis, shared with every other app and test run: an address of our own
    # makes them ours alone.
    def client_at(ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=limited, client=(ip, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver.local")

    forged = {"nonce": "forged", "consent": "yes", "kind": "typed", "typed_name": "甲"}
    try:
        async with client_at(_random_ip()) as hammer:
            page = await hammer.get(f"/sign/{token_a}")
            assert page.status_code == 200 and 'name="nonce"' in page.text
            for _ in range(3):  # below the limit: answered normally (a stale form)
                r = await hammer.post(f"/sign/{token_a}/sign", data=forged)
                assert r.status_code == 400 and "页面已过期" in r.text, r.text
            for path in ("/sign", "/decline"):
                r = await hammer.post(
                    f"/sign/{token_a}{path}", data=forged, headers={"accept-language": "en"}
                )
                assert r.status_code == 429, r.text
                assert r.headers["content-type"].startswith("text/html")
                assert "Too many attempts" in r.text and "wait a minute" in r.text
                assert r.headers["content-security-policy"].startswith("default-src 'none'")
            r = await hammer.get(f"/sign/{token_a}", headers={"accept-language": "zh-CN"})
            assert r.status_code == 429 and "尝试次数过多" in r.text and 'name="nonce"' not in r.text
            # even a valid form post from this address waits now, and nothing is recorded
            r = await hammer.post(
                f"/sign/{token_a}/sign",
                data={"nonce": nonce_of(page.text), "consent": "yes", "kind": "typed", "typed_name": "甲"},
            )
            assert r.status_code == 429
            assert (await hammer.get(f"/sign/{token_a}/pages/1")).status_code == 200  # images: not counted
            assert (await hammer.get("/health")).status_code == 200
        got = (await client.get(f"/api/v1/envelopes/{env['id']}", headers=owner.headers)).json()
        assert [s["status"] for s in got["signers"]] == ["viewed", "sent"]

        async with client_at(_random_ip()) as normal:  # another signer, below the limit: unaffected
            page = await normal.get(f"/sign/{token_b}")
            assert page.status_code == 200
            r = await normal.post(
                f"/sign/{token_b}/sign",
                data={"nonce": nonce_of(page.text), "consent": "yes", "kind": "typed", "typed_name": "Bob"},
            )
            assert r.status_code == 200 and "you have signed" in r.text
        async with client_at(_random_ip()) as elsewhere:  # the first signer from another network
            page = await elsewhere.get(f"/sign/{token_a}")
            r = await elsewhere.post(
                f"/sign/{token_a}/sign",
                data={"nonce": nonce_of(page.text), "consent": "yes", "kind": "typed", "typed_name": "甲"},
            )
            assert r.status_code == 200 and "您已签署" in r.text
        got = (await client.get(f"/api/v1/envelopes/{env['id']}", headers=owner.headers)).json()
        assert [s["status"] for s in got["signers"]] == ["signed", "signed"]
    finally:
        await limited.stores.get("rate_limit").aclose()
    await run_jobs(app)
