"""schemathesis over every documented operation, as an owner and as a rep: no answer is a 5xx, and
every answer matches what the OpenAPI document says (status, content type, headers, body schema).

Bounded and deterministic: per operation a few schema-conforming and a few schema-violating
examples (``derandomize``, no example database, no shrinking), and a few more with real ids in the
path, sent over real HTTP to the app served on a loopback port, signed in with a bearer token.
Prints one JSON line per role with its requests and 5xx answers. ``ACRE_FUZZ_EXAMPLES`` raises
the count for a longer local run.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.dev import free_port
from tests.factories import assign, customer, staff, territory
from tests.helpers import Member, run_jobs, signup
from tests.integration.deals.support import product

EXAMPLES = int(os.environ.get("ACRE_FUZZ_EXAMPLES", "5"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Operations that cannot be fuzzed meaningfully, each with the reason.
EXCLUDED = {
    ("POST", "/webhooks/stripe"): "answers only bodies signed with the Stripe secret (tests/.../billing)",
    ("POST", "/api/v1/auth/logout"): "ends the very session the run signs in with (tests/.../accounts)",
}


@pytest.fixture(scope="module")
async def served(app: Any) -> AsyncIterator[str]:
    """The suite's app (already started) served by uvicorn on a free loopback port, on the session's
    event loop; the fuzz run itself is synchronous, so it runs in a thread while the loop serves."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.02)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@dataclass
class Seeded:
    """The two sessions, and ids of real rows (a rep's customer in a territory, its contact, a deal,
    a product) that path parameters of the same name take in one pass: random ids only reach 404."""

    members: dict[str, Member]
    ids: dict[str, str]


@pytest.fixture(scope="module")
async def seeded(app: Any, stack: Any) -> AsyncIterator[Seeded]:
    """The sessions and rows; afterwards the jobs the run queued (mail about the incidents and
    invitations it made up, renders) are run and their mail dropped, so later tests see none."""
    client = app.state.client
    owner = await signup(client)
    rep = await staff(client, owner, stack.mail, app, role="rep")
    city = await territory(client, owner, "苏州市", level="prefecture")
    await assign(client, owner, city["id"], rep, "rep")
    cust = await customer(client, rep, city["id"])
    r = await client.post(
        f"/api/v1/customers/{cust['id']}/contacts",
        json={"name": "李雷", "title": "财务总监"},
        headers=rep.headers,
    )
    assert r.status_code == 201, r.text
    contact = r.json()
    made = await product(client, owner)
    r = await client.post(
        "/api/v1/deals",
        json={"customer_id": cust["id"], "title": "ERP", "amount": "50000.00"},
        headers=rep.headers,
    )
    assert r.status_code == 201, r.text
    ids = {
        "territory_id": city["id"],
        "customer_id": cust["id"],
        "contact_id": contact["id"],
        "product_id": made["id"],
        "deal_id": r.json()["id"],
    }
    yield Seeded({"owner": owner, "rep": rep}, ids)
    await run_jobs(app)
    stack.mail.messages.clear()


def _document(app: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(msgspec.json.encode(app.openapi_schema.to_schema()))
    return document


def _fuzz(
    operation: Any, base_url: str, headers: dict[str, str], ids: dict[str, str], statuses: Counter[int]
) -> None:
    passes: list[tuple[schemathesis.GenerationMode, dict[str, str] | None]] = [
        (schemathesis.GenerationMode.POSITIVE, None),
        (schemathesis.GenerationMode.NEGATIVE, None),
    ]
    names = re.findall(r"\{(\w+)\}", operation.path)
    if names and all(name in ids for name in names):
        passes.append((schemathesis.GenerationMode.POSITIVE, {name: ids[name] for name in names}))
    for mode, path_parameters in passes:

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
        )
        @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
        def run(case: Any) -> None:
            response = case.call(base_url=base_url, headers=headers, timeout=30)
            statuses[response.status_code] += 1
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            run()
        except Unsatisfiable:
            if mode is schemathesis.GenerationMode.POSITIVE:
                raise  # a negative case needs something to negate: some operations take no input


@pytest.mark.parametrize("role", ["owner", "rep"])
async def test_the_api_answers_as_documented(role: str, served: str, seeded: Seeded, app: Any) -> None:
    headers = seeded.members[role].headers
    await asyncio.to_thread(_run, _document(app), served, headers, seeded.ids, role)


def _run(
    document: dict[str, Any], base_url: str, headers: dict[str, str], ids: dict[str, str], role: str
) -> None:
    schema = schemathesis.openapi.from_dict(document)
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in EXCLUDED:
            continue
        operations += 1
        try:
            _fuzz(operation, base_url, headers, ids, statuses)
        except (Exception, BaseExceptionGroup) as exc:  # one operation's failure must not hide others'
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    requests = sum(statuses.values())
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    print(
        json.dumps(
            {
                "role": role,
                "operations": operations,
                "requests": requests,
                "5xx": server_errors,
                "statuses": dict(sorted(statuses.items())),
            }
        )
    )
    assert requests >= operations * 2
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
