"""The consent to sign electronically: the text a signer agrees to above the signature, by version.

The signing page shows ``TEXTS[VERSION]`` in the signer's language; the ``consented`` evidence event
records the version and the language, and the certificate of completion quotes the text agreed. A
version names one text for good: changing the text means a new version (a unit test pins each
version's message id), so the evidence of older envelopes keeps pointing at what their signers read.
"""

from __future__ import annotations

from app import i18n
from app.i18n import N_

VERSION = "v1"
TEXTS = {
    "v1": N_(
        "I agree to sign this document electronically and to receive it as an electronic record. My"
        " electronic signature binds me as a handwritten one would. I may ask {company} for a paper copy"
        " free of charge, and I may withdraw this consent at any time before signing by declining below"
        " or by contacting {company}."
    ),
}


def text(version: str, locale: str, company: str) -> str:
    """The consent text of ``version`` in ``locale``; ``KeyError`` for a version never shown."""
    return i18n.translate(locale, TEXTS[version], company=company)
