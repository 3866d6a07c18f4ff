"""Every user-facing message id in the code has a zh-CN translation with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from app import i18n
from app.locales.catalog_check import message_ids

ROOT = Path(__file__).resolve().parents[2]
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_every_message_has_a_chinese_translation() -> None:
    ids = message_ids([ROOT / "app", ROOT / "tenants"])
    assert len(ids) > 40  # the scanner finds the messages at all
    catalog = i18n._catalog("zh-CN")
    missing = sorted(m for m in ids if m not in catalog)
    assert not missing, f"add these to a catalog in app/locales/zh_CN/LC_MESSAGES/: {missing}"
    wrong = sorted(m for m in ids if set(_PLACEHOLDER.findall(m)) != set(_PLACEHOLDER.findall(catalog[m])))
    assert not wrong, f"placeholders differ between message and translation: {wrong}"


def test_translate_fills_placeholders_in_chinese() -> None:
    assert i18n.translate("zh-CN", "Use at least {n} characters", n=10) == "至少使用 10 个字符"
    assert i18n.translate("en", "Use at least {n} characters", n=10) == "Use at least 10 characters"


def test_a_message_id_lives_in_one_catalog_file() -> None:
    files = i18n.catalog_files("zh-CN")
    assert any(f.name == "messages.po" for f in files)
    seen: dict[str, str] = {}
    twice = []
    for path in files:
        for message in i18n.read_catalog(path):
            if message in seen:
                twice.append(f"{message!r} in {seen[message]} and {path.name}")
            seen[message] = path.name
    assert not twice, twice
