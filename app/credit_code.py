"""The unified social credit code (统一社会信用代码, GB 32100-2015): normalising and checking it.

Pure functions, no I/O. A code is 18 characters from the digits and the capital letters without I, O,
Z, S and V; characters 3–8 are the region code (digits); the 18th is a check character over the first
17 (weights 3^(i-1) mod 31, check = 31 − Σ mod 31, 31 counting as 0).

Two strengths, on purpose: ``is_well_formed`` (length, charset, region digits) is what customers'
codes get, since data from old systems is often mistyped and refusing it would lose the customer;
``is_valid`` adds the check character, for codes we print as our own (the dealer's company profile).
"""

from __future__ import annotations

import re
import unicodedata

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_CODE_CHARS = "0-9A-HJ-NPQRTUWXY"
_FORM = re.compile(rf"^[{_CODE_CHARS}]{{2}}[0-9]{{6}}[{_CODE_CHARS}]{{10}}$")
_SPACES_AND_DASHES = re.compile(r"[\s\-_]+")


def normalize(code: str) -> str:
    """Width-folded, upper case, without spaces or dashes. Does not validate."""
    return _SPACES_AND_DASHES.sub("", unicodedata.normalize("NFKC", code)).upper()


def is_well_formed(normalized: str) -> bool:
    """Length, charset and region digits of a normalised code; the check character is not verified."""
    return bool(_FORM.match(normalized))


def check_character(first17: str) -> str:
    """The check character of the first 17 characters of a code (which must be from ``CHARSET``)."""
    total = sum(CHARSET.index(char) * weight for char, weight in zip(first17, _WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def is_valid(normalized: str) -> bool:
    """Well formed and its 18th character is the check character of the first 17."""
    return is_well_formed(normalized) and check_character(normalized[:17]) == normalized[17]
