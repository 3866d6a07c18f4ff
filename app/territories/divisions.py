"""China's administrative divisions (GB/T 2260), as the registering authority's code in a unified
social credit code names them: characters 3–8 of the code (``app.credit_code``).

Pure functions over the committed table ``data/divisions.csv`` (its header names the source and the
version), read once. A code is six digits: ``XX0000`` a province, ``XXYY00`` a prefecture-level city,
anything else a county-level division. A division's *prefix* is what every code inside it starts with
(``31``, ``3101``, ``310115``), so a code lies in a division when it starts with the division's prefix;
a code may lie in a known province and city while its own six digits are not (or no longer) listed.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from app import credit_code

_FILE = Path(__file__).parent / "data" / "divisions.csv"
_CODE = re.compile(r"^[0-9]{6}$")
LEVELS = ("province", "city", "county")


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: str

    @property
    def prefix(self) -> str:
        return prefix(self.code)


@functools.cache
def _table() -> dict[str, Division]:
    with _FILE.open(encoding="utf-8", newline="") as file:
        lines = (line for line in file if not line.startswith("#"))
        return {
            row["code"]: Division(row["code"], row["name"], row["level"]) for row in csv.DictReader(lines)
        }


def is_code(code: str) -> bool:
    """Six digits (whether or not a listed division)."""
    return bool(_CODE.match(code))


def prefix(code: str) -> str:
    """What every code inside the division ``code`` starts with: ``310000`` → ``31``, ``310100`` →
    ``3101``, ``310115`` → ``310115``."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def enclosing(code: str) -> tuple[str, ...]:
    """The codes a six-digit code can lie in, the most specific first: itself, its city's, its
    province's (distinct only)."""
    return tuple(dict.fromkeys((code, code[:4] + "00", code[:2] + "0000")))


def get(code: str) -> Division | None:
    """The listed division with this code, or ``None`` (not six digits, or not listed)."""
    return _table().get(code)


def of_credit_code(tax_id: str | None) -> str | None:
    """The registering authority's division code of a (normalised, well-formed) credit code, else
    ``None``."""
    if not tax_id or not credit_code.is_well_formed(tax_id):
        return None
    return tax_id[2:8]


def full_name(code: str | None) -> str | None:
    """The names of the listed divisions the code lies in, province first (``上海市浦东新区``;
    a county directly under a province skips the city), or ``None`` when none of them is listed."""
    if not code or not is_code(code):
        return None
    names = [d.name for c in reversed(enclosing(code)) if (d := get(c)) is not None]
    return "".join(names) or None


def search(q: str, limit: int = 20) -> list[Division]:
    """Divisions whose code starts with ``q`` (digits) or whose name contains it; provinces and
    cities before counties, then by code."""
    q = q.strip()
    if not q:
        return []
    table = _table().values()
    found = [d for d in table if d.code.startswith(q)] if q.isdigit() else [d for d in table if q in d.name]
    found.sort(key=lambda d: (LEVELS.index(d.level), d.code))
    return found[:limit]


def place(mapping: Mapping[str, UUID], tax_id: str | None) -> UUID | None:
    """The territory of the most specific mapped code a credit code's division lies in — what the
    database's ``acre_code_territory`` answers — from the mapping as ``{code: territory_id}``."""
    code = of_credit_code(tax_id)
    if code is None:
        return None
    return next((mapping[c] for c in enclosing(code) if c in mapping), None)
