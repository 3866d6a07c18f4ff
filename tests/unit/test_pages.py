"""``app.pages``: a mail's links are made there only, and a page not served yet gets no link."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app import pages
from app.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
# Where the public address may be read besides app/pages.py, and why: the settings define it, the
# local store presigns its own downloads, `acre dev` sets it, Stripe is told where to return, and a
# Message-ID falls back to its host.
READERS = {
    "app/settings.py",
    "app/pages.py",
    "app/storage.py",
    "app/dev.py",
    "app/mail.py",
    "tenants/billing/service.py",
}


@pytest.fixture(autouse=True)
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ACRE_ENVIRONMENT", "test")
    monkeypatch.setenv("ACRE_PUBLIC_URL", "https://acre.example")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_link_is_made_only_by_app_pages() -> None:
    sources = {
        p.relative_to(ROOT).as_posix(): p
        for top in ("app", "tenants", "workers")
        for p in (ROOT / top).rglob("*.py")
    }
    spelled = sorted(
        rel for rel, path in sources.items() if rel not in READERS and "public_url" in path.read_text("utf-8")
    )
    assert spelled == [], "make mail links with app.pages.url"


def test_a_served_page_has_its_address_and_another_none() -> None:
    assert pages.url(pages.SIGN, token="ab.c-d_e") == "https://acre.example/sign/ab.c-d_e"
    assert pages.url(pages.INVITATION, token="a/b?c") == "https://acre.example/invite/a%2Fb%3Fc"
    assert pages.url(pages.VERIFY, {"q": "一 2"}) == "https://acre.example/verify?q=%E4%B8%80+2"
    assert pages.url(pages.DEAL, deal_id="x") == "https://acre.example/deals/x"
    assert pages.url(pages.COLLECTIONS) is None  # no collections page yet
    assert pages.SERVED <= pages.PAGES
    with pytest.raises(ValueError, match="not a page"):
        pages.url("/deals/{id}/edit", id=1)
    with pytest.raises(KeyError):
        pages.url(pages.SIGN)
