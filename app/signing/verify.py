"""Is this PDF one we sealed, and is it unchanged? The seal's CMS messageDigest (the sha256 of the
bytes it signed) finds the envelope in the global ``seal_index`` even when the file was modified; the
tenant's certificate then decides whether the seal is ours and still valid."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from app import db, i18n
from app.rows import to_structs
from app.signing import seal
from app.signing.schemas import VerifyResult, VerifySigner

UNKNOWN = VerifyResult(sealed_by_us=False, intact=False, verdict="unknown")


async def verify_pdf(pdf: bytes) -> VerifyResult:
    first = await asyncio.to_thread(seal.check_seal, pdf)
    sha = hashlib.sha256(pdf).hexdigest()
    async with db.transaction(None) as tx:
        row = await tx.fetchrow(
            "SELECT * FROM seal_index WHERE message_digest = $1 OR sealed_sha256 = $2 LIMIT 1",
            first.message_digest or "-",
            sha,
        )
    if row is None:
        return UNKNOWN
    if row["statement_id"] is not None:
        return await _verify_statement(pdf, sha, row)
    async with db.transaction(row["tenant"]) as tx:
        cert_pem = await tx.fetchval(
            "SELECT cert_pem FROM tenant_signing_keys WHERE tenant = $1", row["tenant"]
        )
        env = await tx.fetchrow(
            "SELECT * FROM envelopes WHERE tenant = $1 AND id = $2", row["tenant"], row["envelope_id"]
        )
        signers = await tx.fetch(
            "SELECT name, email, signed_at FROM envelope_signers WHERE tenant = $1"
            " AND envelope_id = $2 ORDER BY position",
            row["tenant"],
            row["envelope_id"],
        )
    if cert_pem is None or env is None:
        return UNKNOWN
    check = await asyncio.to_thread(seal.check_seal, pdf, cert_pem.encode())
    ours = check.signed and check.cert_sha256 == row["cert_sha256"].strip()
    intact = ours and check.valid and check.covers_whole_file and sha == row["sealed_sha256"].strip()
    return VerifyResult(
        sealed_by_us=ours,
        intact=intact,
        verdict="intact" if intact else "modified",
        envelope_id=env["id"],
        title=env["title"],
        completed_at=env["ended_at"],
        signers=to_structs(VerifySigner, signers),
    )


async def _verify_statement(pdf: bytes, sha: str, row: Any) -> VerifyResult:
    """A rep's ownership statement (``app.signing.statements``): sealed with the same tenant key."""
    async with db.transaction(row["tenant"]) as tx:
        cert_pem = await tx.fetchval(
            "SELECT cert_pem FROM tenant_signing_keys WHERE tenant = $1", row["tenant"]
        )
        statement = await tx.fetchrow(
            "SELECT s.*, u.name AS member_name, t.locale AS tenant_locale FROM ownership_statements s"
            " JOIN memberships m ON m.tenant = s.tenant AND m.id = s.membership_id"
            " JOIN users u ON u.id = m.user_id JOIN tenants t ON t.id = s.tenant"
            " WHERE s.tenant = $1 AND s.id = $2",
            row["tenant"],
            row["statement_id"],
        )
    if cert_pem is None or statement is None:
        return UNKNOWN
    check = await asyncio.to_thread(seal.check_seal, pdf, cert_pem.encode())
    ours = check.signed and check.cert_sha256 == row["cert_sha256"].strip()
    intact = ours and check.valid and check.covers_whole_file and sha == row["sealed_sha256"].strip()
    title = i18n.translate(
        statement["locale"],
        "Ownership statement of {name}, {start} – {end}",
        name=statement["member_name"],
        start=statement["period_start"].date().isoformat(),
        end=statement["period_end"].date().isoformat(),
    )
    return VerifyResult(
        sealed_by_us=ours,
        intact=intact,
        verdict="intact" if intact else "modified",
        statement_id=statement["id"],
        title=title,
        completed_at=statement["ready_at"],
    )
