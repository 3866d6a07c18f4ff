"""Who a company is, for the duplicate guard (撞单), and the normalised forms used for search.

Pure functions, no I/O. A company's identity key is its unified social credit code when it has one
(``tax:<code>``, normalised by ``app.credit_code``; customers' codes are only checked for their form,
not their check character), else its normalised legal name (``name:<key>``). The name key folds width and case
(NFKC + casefold), drops punctuation and whitespace, and strips company-form suffixes, so
"上海青禾软件有限公司", "上海青禾软件有限责任公司" and "上海青禾软件（有限公司）" are one company.
"""

from __future__ import annotations

import unicodedata

from app import credit_code

# Longest first: the first one that matches the end is stripped, then the loop looks again
# ("某某集团有限公司" → "某某集团" → "某某").
_CHINESE_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "股份公司",
    "责任公司",
    "集团公司",
    "总公司",
    "集团",
    "公司",
)
# Whole trailing words, after NFKC + casefold ("Co., Ltd." → ["co", "ltd"]).
_LATIN_SUFFIXES = frozenset(
    {
        "co",
        "coltd",
        "company",
        "ltd",
        "limited",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "llc",
        "plc",
        "llp",
        "gmbh",
        "pte",
        "group",
    }
)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _is_word_char(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN"


def _words(text: str) -> list[str]:
    """Runs of letters and digits; every other character (punctuation, spaces, symbols) splits."""
    words: list[str] = []
    current: list[str] = []
    for char in text:
        if _is_word_char(char):
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def _drop_tail(words: list[str], count: int) -> list[str]:
    """``words`` without their last ``count`` characters (the cut may span several words)."""
    words = list(words)
    while count > 0 and words:
        last = words.pop()
        if len(last) > count:
            words.append(last[:-count])
        count -= len(last)
    return words


def _strip_suffixes(words: list[str]) -> str:
    """Strip trailing company-form words and suffixes until none is left, never to nothing."""
    while True:
        while len(words) > 1 and words[-1] in _LATIN_SUFFIXES:
            words = words[:-1]
        joined = "".join(words)
        suffix = next((s for s in _CHINESE_SUFFIXES if joined.endswith(s) and len(joined) > len(s)), None)
        if suffix is None:
            return joined
        words = _drop_tail(words, len(suffix))


def company_name_key(full_name: str) -> str:
    """The normalised legal name: NFKC width fold, lowercase, no punctuation or whitespace, no
    company-form suffix. Never empty for a name with a letter or digit in it: a suffix is stripped
    only while something is left before it."""
    words = _words(_fold(full_name))
    return _strip_suffixes(words) or "".join(words)


def identity_key(tax_id: str | None, full_name: str) -> str:
    """``tax:<code>`` when the (normalised) tax id is present, else ``name:<name key>``."""
    if tax_id:
        return "tax:" + credit_code.normalize(tax_id)
    return "name:" + company_name_key(full_name)


def phone_digits(phone: str | None) -> str | None:
    """The digits of a phone number (width-folded), or ``None`` when it has none."""
    if not phone:
        return None
    digits = "".join(c for c in unicodedata.normalize("NFKC", phone) if c.isdigit() and c.isascii())
    return digits or None


def search_text(*names: str | None) -> str:
    """What name search matches against: the names NFKC-folded, lowercased, without whitespace,
    joined by a separator no query contains (so a match never spans two names)."""
    return "\x1f".join(search_query(n) for n in names if n)


def search_query(text: str) -> str:
    """A search term in the same form as :func:`search_text`."""
    return "".join(_fold(text).split())
