"""What every browser test shares: the two viewports, signing in, and ``check_page`` — axe-core
(vendored, evaluated from the committed file) with no serious or critical violation, nothing that
scrolls sideways, and (``chinese``) no visible English left on a zh-CN page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.helpers import PASSWORD

AXE = (Path(__file__).parent / "vendor" / "axe.js").read_text(encoding="utf-8")
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
# Latin words a zh-CN page may show: the product's name, the language switch, data (emails, hashes),
# grades, and the names Chinese uses as they are: file formats and size units
ALLOWED_LATIN = {
    "Acre", "English", "PDF", "Word", "docx", "KB", "MB", "CSV", "XLSX", "Excel", "csv", "xlsx", "API",
}  # fmt: skip
_HASH = re.compile(r"\b[0-9a-f]{16,}\b")


async def check_page(page: Any, *, chinese: bool = False) -> None:
    """axe-core's serious/critical violations, sideways scrolling and (``chinese``) English left over."""
    await page.evaluate(AXE)
    violations = await page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"
    )
    assert violations == [], (page.url, violations)
    wide = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert wide <= 0, (page.url, "scrolls sideways", wide)
    if chinese:
        text = await page.evaluate(
            "document.body.innerText + '\\n' + [...document.querySelectorAll('[aria-label],[title]')]"
            ".map(e => (e.getAttribute('aria-label') || '') + ' ' + (e.getAttribute('title') || ''))"
            ".join('\\n')"
        )
        words = {w for w in re.findall(r"[A-Za-z][A-Za-z'’-]+", re.sub(r"\S+@\S+", "", _HASH.sub("", text)))}
        assert words <= ALLOWED_LATIN, (page.url, "untranslated", sorted(words - ALLOWED_LATIN))


async def sign_in(page: Any, base_url: str, email: str, *, next_path: str = "/") -> None:
    """Sign in on ``/login`` and wait for ``next_path``."""
    await page.goto(f"{base_url}/login?next={next_path}")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base_url}{next_path}")
