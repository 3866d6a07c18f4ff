"""Rendering the default templates (both locales, realistic data) and the sandbox: the output opens
with python-docx and carries the values; hostile templates fail safely; the build is reproducible."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from docx import Document

from app.documents import kinds
from app.documents.rendering import TemplateBroken, default_template_path, render_docx
from tests.unit.docx_cases import docx_with

# A value each kind's sample must show somewhere in the rendered document, per locale.
EXPECTED = {
    "contract": {
        "zh-CN": [
            "苏州恒泰精密机械有限公司",
            "张建国",
            "第一条",
            "[[SIGN:party_a]]",
            "同版本升级",
            "上门服务",
        ],
        "en": [
            "Suzhou Hengtai Precision Machinery Co., Ltd.",
            "Zhang Jianguo",
            "[[SIGN:party_b]]",
            "same-version upgrades",
            "On-site service is chargeable",
        ],
    },
    "proposal_requirements": {
        "zh-CN": ["需求方案", "苏州恒泰精密机械有限公司", "V1.1", "联系我们", "欢迎贵司提出意见"],
        "en": ["Requirements Proposal", "Wang Fang", "Contact us", "open to discussion"],
    },
    "proposal_product": {
        "zh-CN": ["产品方案", "生产制造-MRP", "李晓明"],
        "en": ["Product Proposal", "Shop Floor Control"],
    },
    "proposal_pricing": {
        "zh-CN": ["报价方案", "30 天内有效"],
        "en": ["Pricing Proposal", "valid for 30 days"],
    },
    "quote": {"zh-CN": ["报价单", "QM-Q-2026-0877", "第 2 轮"], "en": ["Quotation", "Round 2"]},
    "handover": {
        "zh-CN": ["客户移交表", "杭州云帆物流有限公司", "孙伟", "下周安排产品演示"],
        "en": ["Customer Handover Sheet", "Hangzhou Yunfan Logistics Co., Ltd.", "Sun Wei"],
    },
}


def all_text(docx: bytes) -> str:
    doc = Document(io.BytesIO(docx))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    for section in doc.sections:
        parts.extend(p.text for p in section.header.paragraphs)
        parts.extend(p.text for p in section.footer.paragraphs)
    return "\n".join(parts)


@pytest.mark.parametrize("kind", sorted(kinds.KINDS))
@pytest.mark.parametrize("locale", kinds.LOCALES)
def test_default_templates_render_with_realistic_data(kind: str, locale: str) -> None:
    data = kinds.sample(kind, locale)
    text = all_text(render_docx(default_template_path(kind, locale).read_bytes(), data))
    assert "{{" not in text and "{%" not in text
    for value in EXPECTED[kind][locale]:
        assert value in text, value
    assert data["company"]["name"] in text  # header placeholder filled
    for line in data.get("lines", []):
        assert line["amount"] in text and line["product"] in text
    if kind in ("contract", "quote"):
        assert len(data["lines"]) == 30
        assert data["lines"][29]["amount"] in text and data["totals"]["total"] in text


def test_contract_carries_milestones_and_both_parties() -> None:
    data = kinds.sample("contract", "zh-CN")
    doc = Document(io.BytesIO(render_docx(default_template_path("contract", "zh-CN").read_bytes(), data)))
    lines_table = next(t for t in doc.tables if t.rows[0].cells[1].text == "产品名称")
    assert len(lines_table.rows) == 1 + 30  # header + one row per line, the loop rows removed
    milestones = next(t for t in doc.tables if t.rows[0].cells[1].text == "付款节点")
    assert [r.cells[2].text for r in milestones.rows[1:]] == ["20%", "70%", "10%"]


def test_values_are_escaped_not_injected() -> None:
    data = kinds.sample("contract", "en")
    data["party_a"]["full_name"] = 'R&D <Works> "Ltd" </w:t></w:r>'
    text = all_text(render_docx(default_template_path("contract", "en").read_bytes(), data))
    assert 'R&D <Works> "Ltd" </w:t></w:r>' in text


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ party_a.full_name.__class__ }}",
    ],
)
def test_sandbox_escapes_fail_safely(template: str) -> None:
    with pytest.raises(TemplateBroken) as info:
        render_docx(docx_with([template]), {"party_a": {"full_name": "x"}})
    assert "unsafe" in str(info.value) or "undefined" in str(info.value).lower()
    assert "<class" not in str(info.value)


def test_missing_values_and_runtime_errors_are_template_errors() -> None:
    with pytest.raises(TemplateBroken, match=r"UndefinedError.*fax"):
        render_docx(docx_with(["{{ party_a.fax }}"]), {"party_a": {"full_name": "x"}})
    with pytest.raises(TemplateBroken, match="TypeError"):
        render_docx(docx_with(["{{ totals.total / 0 }}"]), {"totals": {"total": "¥1.00"}})
    with pytest.raises(TemplateBroken):
        render_docx(b"PK\x03\x04 damaged", {})


def test_catalogue_variables_and_required_fields() -> None:
    variables = kinds.variables("contract")
    assert variables["party_a.full_name"] == "text" and variables["lines"] == "list"
    assert variables["lines[].amount"] == "text"
    data = kinds.sample("contract", "zh-CN")
    assert kinds.missing_required("contract", data) == []
    data["party_a"]["address"] = " "
    del data["party_a"]["phone"]
    assert kinds.missing_required("contract", data) == ["party_a.address", "party_a.phone"]
    blank = kinds.blank(kinds.sample("quote", "en"))
    assert blank["lines"] == [] and blank["customer"]["full_name"] == ""


def test_the_committed_templates_are_what_build_py_makes(tmp_path: Path) -> None:
    from doc_templates.build import build_all

    built = build_all(tmp_path)
    assert len(built) == 2 * len(kinds.KINDS)
    for path in built:
        committed = default_template_path(*path.name.removesuffix(".docx").split("."))
        assert (
            hashlib.sha256(path.read_bytes()).hexdigest()
            == hashlib.sha256(committed.read_bytes()).hexdigest()
        ), f"{path.name} differs: run `uv run python doc_templates/build.py`"
