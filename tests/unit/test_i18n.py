from __future__ import annotations

import pytest

from app import i18n


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("zh-CN", "zh-CN"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("en;q=0.5, zh-TW;q=0.8", "zh-CN"),  # any Chinese is served zh-CN
        ("zh;q=0.3,en;q=0.7", "en"),
        ("fr-FR,fr;q=0.9,zh;q=0.4", "zh-CN"),  # unsupported languages are skipped
        ("fr-FR,de;q=0.9", "en"),  # nothing supported: English
        ("*", "en"),
        ("zh-CN;q=bogus, en;q=0.1", "en"),  # an unreadable weight counts as nothing
    ],
)
def test_negotiate(header, expected):
    assert i18n.negotiate(header) == expected


def test_negotiate_equal_weights_keep_the_header_order():
    assert i18n.negotiate("en, zh-CN") == "en"


def test_negotiate_q0_is_not_acceptable():
    assert i18n.negotiate("fr, zh;q=0") == "en"


def test_negotiate_allows_optional_whitespace_before_q():
    assert i18n.negotiate("zh; q=0.1, en; q=0.9") == "en"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("zh", "zh-CN"),
        ("zh_CN", "zh-CN"),
        ("ZH-cn", "zh-CN"),
        ("zh-Hant-TW", "zh-CN"),
        ("en", "en"),
        ("en_GB", "en"),
        (" en-US ", "en"),
        ("fr", "en"),
        ("de-DE", "en"),
    ],
)
def test_normalize(locale, expected):
    assert i18n.normalize(locale) == expected


def test_choose_prefers_user_then_tenant_then_header():
    assert i18n.choose("en", "zh-CN", "zh-CN") == "en"
    assert i18n.choose("zh_CN", "en", "en") == "zh-CN"
    assert i18n.choose(None, "zh-CN", "en") == "zh-CN"
    assert i18n.choose("", "en", "zh-CN") == "en"
    assert i18n.choose(None, None, "zh-CN,en;q=0.5") == "zh-CN"
    assert i18n.choose(None, "", "en") == "en"
    assert i18n.choose(None, None, None) == "en"


def test_translate():
    assert i18n.translate("zh-CN", "Authentication required") == "需要登录"
    assert i18n.translate("zh_CN", "Authentication required") == "需要登录"
    assert i18n.translate("en", "Authentication required") == "Authentication required"
    assert i18n.translate("fr", "Authentication required") == "Authentication required"
    assert i18n.translate(None, "Authentication required") == "Authentication required"
    # an unknown message id falls back to itself, placeholders filled
    assert (
        i18n.translate("zh-CN", "No such {thing} id {n} here", thing="widget", n=3)
        == "No such widget id 3 here"
    )
    assert i18n.translate("en", "All {limit} seats are in use", limit=5) == "All 5 seats are in use"
    # without params the text is returned as is (braces untouched)
    assert i18n.translate("en", "Keep {this} literal") == "Keep {this} literal"
