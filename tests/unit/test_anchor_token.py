"""An anchor's token matches only the digest it was issued for, and only as the TSA signed it."""

from __future__ import annotations

import hashlib

from asn1crypto import cms
from pyhanko.sign.timestamps import HTTPTimeStamper

from app.customers.anchors import _token_matches
from tests.integration.signing.tsa import _make_stamper


def _token(digest: bytes) -> cms.ContentInfo:
    stamper, _root, _cert = _make_stamper()
    _nonce, request = HTTPTimeStamper("http://unused").request_cms(digest, "sha256")
    token: cms.ContentInfo = stamper.request_tsa_response(request)["time_stamp_token"]
    return token


def test_a_token_matches_its_digest_and_nothing_else() -> None:
    digest = hashlib.sha256(b"head").digest()
    token = _token(digest)
    assert _token_matches(token.dump(), digest)
    assert not _token_matches(token.dump(), hashlib.sha256(b"another head").digest())
    assert not _token_matches(b"not a token", digest)


def test_a_token_altered_after_signing_does_not_match() -> None:
    digest = hashlib.sha256(b"head").digest()
    token = _token(digest)
    signed = token["content"]
    info = signed["encap_content_info"]["content"].parsed
    info["serial_number"] = info["serial_number"].native + 1  # the TSA signed another TSTInfo
    signed["encap_content_info"]["content"] = cms.ParsableOctetString(info.dump(force=True))
    assert not _token_matches(
        cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump(force=True), digest
    )
