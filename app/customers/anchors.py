"""The ownership ledger anchored outside the database (RFC 3161 timestamps of the chain's head).

The hash chain (:mod:`app.customers.ledger`) shows an edited, inserted or deleted entry, but not a
rewrite of the whole chain from some entry on: whoever can write the database (the platform
included) can re-hash everything after the edit. So each day (cron ``anchor_ledgers``, UTC) the head
of every tenant's chain is timestamped by the RFC 3161 authority of ``ACRE_TIMESTAMP_URL`` — the same
pyHanko client the seals use — and the token kept in ``ownership_anchors``. The timestamped digest is
``sha256('acre-ledger-anchor|v1|<tenant>|<head seq>|<head hash hex>|<previous token's sha256 hex or ->')``:
it names the entry, and it chains the anchors, so a deleted anchor breaks the next one's imprint.

:func:`check_anchors` (part of ``/api/v1/ownership/verify``) then checks, oldest anchor first, that each
token is a valid timestamp signature over the digest of what the row says, that the rows chain, and
that the chain's entry at the anchored seq still has the anchored hash. A rewrite is detectable back to
the last anchor: the first anchor at or after the rewritten entry is named. Anything after the last
anchor is protected by the chain alone (and the next day's anchor). The tokens are signed by the TSA,
not by us: a copy of one (the rep statements print the anchor) settles a dispute without our database.

With no ``ACRE_TIMESTAMP_URL`` nothing is anchored, and the cron logs a warning once per run.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal
from uuid import UUID

import aiohttp
import structlog
from asn1crypto import cms
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation.generic_cms import (
    extract_certs_for_validation,
    extract_signer_info,
    validate_sig_integrity,
)

from app.db import Tx
from app.settings import get_settings
from tenants.cron import for_each_tenant, tenant_ids
from tenants.scope import TenantScope

log = structlog.get_logger(__name__)

DIGEST_VERSION: Final = "v1"
TSA_TIMEOUT_SECONDS: Final = 10
ANCHOR_CONCURRENCY: Final = 4
# The cron's own time limit: 10,000 tenants at 0.3 s a round trip, four at a time, take ~750 s.
ANCHOR_CRON_TIMEOUT_SECONDS: Final = 3600

Problem = Literal["entry_changed", "entry_missing", "token_invalid", "anchors_unchained"]


def anchor_digest(tenant: UUID, head_seq: int, head_hash: bytes, prev_token_sha256: bytes | None) -> bytes:
    """What is timestamped for an anchor (sha256 of the canonical text above)."""
    text = "|".join(
        (
            "acre-ledger-anchor",
            DIGEST_VERSION,
            str(tenant),
            str(head_seq),
            head_hash.hex(),
            prev_token_sha256.hex() if prev_token_sha256 else "-",
        )
    )
    return hashlib.sha256(text.encode()).digest()


@dataclass(frozen=True)
class Anchor:
    id: UUID
    head_seq: int
    head_hash: str
    stamped_at: datetime
    token_sha256: str


@dataclass(frozen=True)
class AnchorCheck:
    ok: bool
    checked: int
    first_broken_id: UUID | None = None
    first_broken_seq: int | None = None
    first_broken_at: datetime | None = None
    problem: Problem | None = None
    last: Anchor | None = None


def _tst_info(token: cms.ContentInfo) -> Any:
    return token["content"]["encap_content_info"]["content"].parsed


async def anchor_ledger(
    scope: TenantScope, *, tsa_url: str | None = None, session: aiohttp.ClientSession | None = None
) -> Anchor | None:
    """Timestamp the head of the tenant's chain and store the token; ``None`` when there is nothing
    new to anchor (no entries, or the head is anchored already) or no TSA is configured.

    The TSA is asked outside any transaction. Raises what the TSA client raises (``IOError``,
    pyHanko's ``TimestampRequestError``) when it cannot be reached or answers badly: nothing is stored
    then and the next run tries again. Two concurrent runs store one anchor (``UNIQUE (tenant,
    head_seq)``; the second finds the head anchored, or another anchor stored meanwhile, and stores
    none). ``session``: an HTTP session to reuse (the cron's; without one the client makes one per
    request, loading the system's CA bundle each time, ~60 ms)."""
    url = tsa_url or get_settings().timestamp_url
    if not url:
        return None
    tenant = scope.tenant_id
    async with scope.tx() as tx:
        head = await tx.fetchrow(
            "SELECT seq, hash FROM customer_ownership_history WHERE tenant = $1 ORDER BY seq DESC LIMIT 1",
            tenant,
        )
        last = await _last(tx)
    if head is None or (last is not None and last[0] >= head["seq"]):
        return None
    prev = last[1] if last else None
    digest = anchor_digest(tenant, head["seq"], bytes(head["hash"]), prev)
    token = await HTTPTimeStamper(url, timeout=TSA_TIMEOUT_SECONDS, session=session).async_timestamp(
        digest, "sha256"
    )
    blob = token.dump()
    stamped_at = _tst_info(token)["gen_time"].native
    async with scope.tx() as tx:
        if await _last(tx) != last:
            return None  # another run anchored meanwhile
        row = await tx.fetchrow(
            "INSERT INTO ownership_anchors (tenant, head_seq, head_hash, prev_token_sha256, token, tsa_url,"
            " stamped_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (tenant, head_seq) DO NOTHING RETURNING id",
            tenant,
            head["seq"],
            bytes(head["hash"]),
            prev,
            blob,
            url,
            stamped_at,
        )
    if row is None:
        return None
    return Anchor(
        row["id"], head["seq"], bytes(head["hash"]).hex(), stamped_at, hashlib.sha256(blob).hexdigest()
    )


async def _last(tx: Tx) -> tuple[int, bytes] | None:
    row = await tx.fetchrow(
        "SELECT head_seq, sha256(token) AS token_sha256 FROM ownership_anchors WHERE tenant = $1"
        " ORDER BY head_seq DESC LIMIT 1",
        tx.tenant_id,
    )
    return (row["head_seq"], bytes(row["token_sha256"])) if row else None


async def anchor_ledgers(ctx: dict[str, Any]) -> int:
    """Cron (daily, UTC): anchor every tenant's chain head; returns the number of anchors stored.

    ``ANCHOR_CONCURRENCY`` tenants at a time (the time is the TSA's round trips: ~0.1–0.3 s each for a
    public one), each share of the tenants through ``for_each_tenant``, so one tenant whose TSA request
    fails is logged and the others go on."""
    if not get_settings().timestamp_url:
        log.warning("ownership ledger not anchored: ACRE_TIMESTAMP_URL is not set")
        return 0
    ids = await tenant_ids()

    async with aiohttp.ClientSession() as session:

        async def one(scope: TenantScope) -> int:
            return 1 if await anchor_ledger(scope, session=session) else 0

        shares = [ids[i::ANCHOR_CONCURRENCY] for i in range(ANCHOR_CONCURRENCY)]
        done = await asyncio.gather(*(for_each_tenant("anchor_ledgers", one, only=s) for s in shares if s))
    return sum(done)


def _token_matches(token_der: bytes, digest: bytes) -> bool:
    """The token is a timestamp (TSTInfo) over ``digest`` with sha256, signed by the certificate it
    carries: the signed attributes hold the TSTInfo's digest and the signature over them is valid
    (pyHanko's integrity check, ~0.1 ms). Not a trust check of the TSA's certificate: which authority
    stamped is ``token_sha256``'s business, and the first anchor that no longer matches is what is
    asked. Certificate path validation costs ~5 ms a token, on every verify."""
    try:
        signed = cms.ContentInfo.load(token_der)["content"]
        info = signed["encap_content_info"]
        if info["content_type"].native != "tst_info":
            return False
        imprint = info["content"].parsed["message_imprint"]
        if (
            imprint["hash_algorithm"]["algorithm"].native != "sha256"
            or imprint["hashed_message"].native != digest
        ):
            return False
        signer_info = extract_signer_info(signed)
        md = hashlib.new(signer_info["digest_algorithm"]["algorithm"].native, bytes(info["content"]))
        intact, valid = validate_sig_integrity(
            signer_info, extract_certs_for_validation(signed).signer_cert, "tst_info", md.digest()
        )
        return bool(intact and valid)
    except Exception:  # a token that does not even parse does not match
        return False


_ANCHORS = """
SELECT a.id, a.head_seq, a.head_hash, a.prev_token_sha256, a.token, sha256(a.token) AS token_sha256,
    a.stamped_at, h.hash AS entry_hash
FROM ownership_anchors a
LEFT JOIN customer_ownership_history h ON h.tenant = a.tenant AND h.seq = a.head_seq
WHERE a.tenant = $1
ORDER BY a.head_seq
"""


async def check_anchors(tx: Tx) -> AnchorCheck:
    """Check the tenant's anchors, oldest first; the first that fails is named with its problem:
    ``entry_changed`` (the chain's entry at that seq has another hash: the chain was rewritten at or
    before it), ``entry_missing`` (no entry at that seq), ``token_invalid`` (the token is not a valid
    timestamp over what the row says: the row was rewritten) or ``anchors_unchained`` (the row does
    not follow the anchor before it: one was deleted or inserted). One query (anchors joined to their
    entries by ``(tenant, seq)``); the tokens are checked in Python, one per day anchored."""
    assert tx.tenant_id is not None
    rows = await tx.fetch(_ANCHORS, tx.tenant_id)
    prev: bytes | None = None
    last: Anchor | None = None
    for row in rows:
        head_hash = bytes(row["head_hash"])
        problem: Problem | None = None
        stored_prev = bytes(row["prev_token_sha256"]) if row["prev_token_sha256"] is not None else None
        digest = anchor_digest(tx.tenant_id, row["head_seq"], head_hash, stored_prev)
        if not _token_matches(bytes(row["token"]), digest):
            problem = "token_invalid"
        elif stored_prev != prev:
            problem = "anchors_unchained"
        elif row["entry_hash"] is None:
            problem = "entry_missing"
        elif bytes(row["entry_hash"]) != head_hash:
            problem = "entry_changed"
        if problem is not None:
            return AnchorCheck(False, len(rows), row["id"], row["head_seq"], row["stamped_at"], problem, last)
        prev = bytes(row["token_sha256"])
        last = Anchor(row["id"], row["head_seq"], head_hash.hex(), row["stamped_at"], prev.hex())
    return AnchorCheck(True, len(rows), last=last)
