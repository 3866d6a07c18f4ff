"""A render job that finds the document claimed by another attempt does not finish quietly (that
attempt's worker may have died): it asks ARQ to look again once the claim has gone stale, then takes
the document over and renders it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from arq import Retry

from app import db
from app.documents import jobs
from app.documents.convert import Converter
from app.settings import get_settings
from tests.helpers import signup
from tests.integration.documents.test_documents_api import request_document


async def test_a_claimed_document_is_retried_after_the_claim_goes_stale(client: Any, app: Any) -> None:
    owner = await signup(client)
    doc_id = (await request_document(client, owner, kind="quote")).json()["id"]
    tenant, doc = uuid.UUID(owner.tenant_id), uuid.UUID(doc_id)
    claimed = await jobs._claim(tenant, doc, "render_document:a-worker-that-died")
    assert claimed is not None and claimed["status"] == "rendering"
    no_office = Converter(get_settings().model_copy(update={"soffice_path": "no-such-soffice"}))
    ctx: dict[str, Any] = {"job_try": 1, "job_id": "render_document:second-delivery", "converter": no_office}
    with pytest.raises(Retry) as raised:
        await jobs.render_document(ctx, owner.tenant_id, doc_id)
    assert raised.value.defer_score == (jobs._CLAIM_TIMEOUT_SECONDS + 30) * 1000  # after the claim timeout
    assert jobs._CLAIM_TIMEOUT_SECONDS > jobs.ARQ_TIMEOUT_SECONDS  # ARQ cancels a try before it goes stale
    got = (await client.get(f"/api/v1/documents/{doc_id}", headers=owner.headers)).json()
    assert got["status"] == "rendering" and got["docx"] is None  # untouched by the second delivery
    async with db.transaction(tenant) as tx:  # time passes: the first claim is stale now
        await tx.execute(
            "UPDATE documents SET claimed_at = now() - make_interval(secs => $2) WHERE id = $1",
            doc,
            jobs._CLAIM_TIMEOUT_SECONDS + 1,
        )
    assert await jobs.render_document({**ctx, "job_try": 2}, owner.tenant_id, doc_id) == "ready"
    got = (await client.get(f"/api/v1/documents/{doc_id}", headers=owner.headers)).json()
    assert got["status"] == "ready" and got["docx"]["sha256"]
    again = await jobs.render_document({**ctx, "job_try": 1}, owner.tenant_id, doc_id)
    assert again == "already-ready"
