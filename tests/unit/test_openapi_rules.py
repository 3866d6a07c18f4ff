"""The rules app/openapi.py applies to the document: error answers, optional bodies, strict schemas."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from app.main import create_app
from app.nul_guard import nul_fields
from app.settings import Settings

METHODS = ("get", "post", "put", "patch", "delete")
PROBLEM = "#/components/schemas/Problem"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    app = create_app(Settings(environment="test", secret_key="rules-" + "k" * 32))
    return json.loads(msgspec.json.encode(app.openapi_schema.to_schema()))  # type: ignore[no-any-return]


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def test_every_error_answer_is_a_problem(document: dict[str, Any]) -> None:
    errors = 0
    for (method, path), operation in _operations(document).items():
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                errors += 1
                content = response["content"]
                assert list(content) == ["application/problem+json"], (method, path, status)
                assert content["application/problem+json"]["schema"] == {"$ref": PROBLEM}
    assert errors > 500
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status"}


def test_signed_in_operations_declare_401_and_403_and_public_ones_do_not(document: dict[str, Any]) -> None:
    operations = _operations(document)
    public = {
        ("POST", "/api/v1/signup"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/verify"),
        ("POST", "/api/v1/invitations/{token}/accept"),
        ("GET", "/health"),
        ("GET", "/ready"),
        ("POST", "/webhooks/stripe"),
        ("POST", "/api/v1/auth/password-reset"),
        ("POST", "/api/v1/auth/password-reset/confirm"),
    }
    for key, operation in operations.items():
        statuses = set(operation["responses"])
        if key in public:
            assert "403" not in statuses, key
        else:
            assert {"401", "403"} <= statuses, key
    assert "401" in operations["POST", "/api/v1/auth/login"]["responses"]  # wrong password
    assert "401" not in operations["POST", "/api/v1/signup"]["responses"]


def test_statuses_follow_ids_writes_billing_and_rate_limits(document: dict[str, Any]) -> None:
    ops = _operations(document)

    def statuses(method: str, path: str) -> set[str]:
        return set(ops[method, path]["responses"])

    assert "404" in statuses("GET", "/api/v1/customers/{customer_id}")
    assert "404" not in statuses("GET", "/api/v1/members")
    assert "404" in statuses("POST", "/api/v1/envelopes")  # its document_id is looked up
    assert "404" in statuses("GET", "/api/v1/funnel")  # ?territory_id=
    assert {"402", "409"} <= statuses("POST", "/api/v1/customers")
    assert "402" not in statuses("GET", "/api/v1/customers")
    assert "409" not in statuses("GET", "/api/v1/customers")
    assert "402" not in statuses("POST", "/api/v1/billing/checkout")  # a read-only tenant may pay
    throttled = {key for key, operation in ops.items() if "429" in operation["responses"]}
    assert throttled == {
        ("POST", "/api/v1/signup"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/verify"),
        ("POST", "/api/v1/invitations/{token}/accept"),
        ("POST", "/api/v1/auth/password-reset"),
        ("POST", "/api/v1/auth/password-reset/confirm"),
        ("GET", "/api/v1/customers/duplicate-check"),
        # the routes an API key may call count its requests
        ("POST", "/api/v1/leads"),
        ("GET", "/api/v1/customers"),
        ("GET", "/api/v1/customers/{customer_id}"),
        ("GET", "/api/v1/deals"),
        ("GET", "/api/v1/deals/{deal_id}"),
        ("GET", "/api/v1/pipeline"),
        ("GET", "/api/v1/territories"),
        ("GET", "/api/v1/territories/{territory_id}"),
    }
    assert {"409", "410"} <= statuses("POST", "/api/v1/invitations/{token}/accept")
    assert "422" not in statuses("GET", "/api/v1/me")  # nothing to validate
    assert {"400", "422"} <= statuses("POST", "/api/v1/customers")


def test_a_body_is_required_only_without_a_default(document: dict[str, Any]) -> None:
    ops = _operations(document)
    assert ops["POST", "/api/v1/envelopes"]["requestBody"]["required"] is True
    for key in [
        ("POST", "/api/v1/quotes/{quote_id}/approve"),
        ("POST", "/api/v1/tasks/{task_id}/done"),
        ("POST", "/api/v1/visit-plans/{plan_id}/approve"),
    ]:
        assert ops[key]["requestBody"]["required"] is False, key


def test_structs_refusing_unknown_fields_say_so(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["EnvelopeCreate"]["additionalProperties"] is False
    assert schemas["SignupCreate"]["additionalProperties"] is False
    assert "additionalProperties" not in schemas["EnvelopeRead"]
    assert "additionalProperties" not in schemas["Problem"]  # problems carry more members


def test_nul_fields_name_the_paths_like_other_422s() -> None:
    body = {"name": "a\x00", "items": [{"ok": "x"}, {"purpose": "\x00"}], "k\x00": 1, "n": {"deep": ["\x00"]}}
    assert list(nul_fields(body)) == ["name", "items[1].purpose", "k\x00", "n.deep[0]"]
    assert list(nul_fields("\x00")) == ["body"]
    assert list(nul_fields({"clean": ["text", 1, None]})) == []
