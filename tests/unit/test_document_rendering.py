"""Rendering the default templates (both locales, realistic data) and the sandbox: the output opens
with python-docx and carries the values; hostile templates fail safely, template bombs within their
budgets or the child process's limits while other renders go on; the build is reproducible."""

from __future__ import annotations

import asyncio
import hashlib
import io
import time
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from app.documents import kinds, render_process
from app.documents.render_process import Limits
from app.documents.rendering import TemplateBroken, default_template_path, render_docx
from app.documents.validation import default_needs, needed_variables
from tests.unit.docx_cases import docx_with

# A value each kind's sample must show somewhere in the rendered document, per locale.
EXPECTED = {
    "acceptance": {
        "zh-CN": [
            "安装验收单",
            "苏州恒泰精密机械有限公司",
            "同意验收",
            "1 年免费同版本升级",
            "[[SIGN:party_a]]",
        ],
        "en": [
            "Installation Acceptance Note",
            "accepts the installation",
            "1 year(s) of free",
            "[[SIGN:party_a]]",
        ],
    },
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
            "On-site service rate",
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


def test_catalogue_variables_and_blank_paths() -> None:
    variables = kinds.variables("contract")
    assert variables["party_a.full_name"] == "text" and variables["lines"] == "list"
    assert variables["lines[].amount"] == "text" and variables["party_b.seal"] == "text"
    assert all(kinds.variables(k)["party_b.full_name"] == "text" for k in kinds.KINDS)  # every kind
    data = kinds.sample("contract", "zh-CN")
    paths = ["party_a.full_name", "party_a.address", "party_a.phone", "party_b.bank"]
    assert kinds.blank_paths(paths, data) == []
    data["party_a"]["address"] = " "
    del data["party_a"]["phone"]
    assert kinds.blank_paths(paths, data) == ["party_a.address", "party_a.phone"]
    blank = kinds.blank(kinds.sample("quote", "en"))
    assert blank["lines"] == [] and blank["customer"]["full_name"] == ""


def test_needed_variables_are_those_printed_unguarded() -> None:
    template = docx_with(
        [
            "{{ party_a.full_name }} {{ party_b.bank | upper }}",
            "{% if party_a.tax_id %}{{ party_a.tax_id }}{% endif %}",
            "{{ party_a.bank if party_a.bank else '-' }} {{ party_a.account | default('-') }}",
            "{{ party_b.website or '' }}",
            "{% if party_b %}{{ party_b.email }}{% endif %}",
            "{%p for line in lines %}",
            "{{ line.product }}",
            "{%p endfor %}",
            "{% for party_a in milestones %}{{ party_a.name }}{% endfor %}",
        ]
    )
    assert needed_variables(template, "contract") == ["party_a.full_name", "party_b.bank"]


def test_the_default_templates_need_the_company_profile() -> None:
    needs = set(default_needs("contract", "zh-CN"))
    assert {"party_b.full_name", "party_b.tax_id", "party_b.bank", "party_b.account"} <= needs
    assert {"party_a.contact", "maintenance.hotline", "maintenance.onsite_fee", "totals.discount"} <= needs
    # optional by design: the buyer's bank details, the seller's website, the pictures
    assert not needs & {"party_a.bank", "party_a.account", "party_a.tax_id", "party_b.logo", "party_b.seal"}
    assert "party_b.full_name" in default_needs("quote", "en")
    assert "party_b.full_name" not in default_needs("handover", "en")  # internal: the tenant's name will do
    for kind in kinds.KINDS:
        for locale in kinds.LOCALES:
            assert kinds.blank_paths(default_needs(kind, locale), kinds.sample(kind, locale)) == []


def test_pictures_are_rendered_where_the_template_prints_them(tmp_path: Path) -> None:
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (400, 400), (200, 30, 30)).save(png, format="PNG")
    data = kinds.sample("contract", "zh-CN")
    data["party_b"]["seal"] = data["party_b"]["logo"] = "sha"
    template = default_template_path("contract", "zh-CN").read_bytes()
    out = render_docx(template, data, {"party_b.seal": png.getvalue(), "party_b.logo": png.getvalue()})
    doc = Document(io.BytesIO(out))
    assert len(doc.inline_shapes) == 1  # the seal, in the body
    assert round(doc.inline_shapes[0].width.mm) == 40
    header = doc.sections[0].header
    assert header.part.package is not None and b"<w:drawing>" in header._element.xml.encode()
    assert "sha" not in all_text(out)
    plain = Document(io.BytesIO(render_docx(template, kinds.sample("contract", "zh-CN"))))
    assert len(plain.inline_shapes) == 0  # no picture, and no hole where it would be


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


# --- limits: every render runs in a child process (app.documents.render_process) ---------------------

NESTED_RANGES = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
HUGE_STRING = "{{ 'x' * 200000000 }}"


async def _refused(template: str, context: dict[str, Any], limits: Limits) -> tuple[str, float]:
    started = time.perf_counter()
    with pytest.raises(TemplateBroken) as info:
        await render_process.render(docx_with([template]), context, limits)
    return str(info.value), time.perf_counter() - started


@pytest.mark.parametrize(
    ("template", "context", "reason"),
    [
        (NESTED_RANGES, {}, "loops ran more than 100,000 times"),
        (HUGE_STRING, {}, "would make a value of more than 5,000,000"),
        # the same, with counts from the data (no upload check can see those)
        (
            "{% for a in range(n|int) %}{% for b in range(n|int) %}{% endfor %}{% endfor %}",
            {"n": "100000"},
            "loops ran more than 100,000 times",
        ),
        ("{{ 'x' * (n|int) }}", {"n": "200000000"}, "would make a value of more than 5,000,000"),
        ("{% for i in range(50000) %}{{ s }}{% endfor %}", {"s": "x" * 1000}, "writes more than 5,000,000"),
        ("{{ 10 ** (n|int) }}", {"n": "100000000"}, "too large"),
    ],
)
async def test_bombs_fail_at_once_with_the_budget_they_broke(
    template: str, context: dict[str, Any], reason: str
) -> None:
    message, _ = await _refused(template, context, Limits(seconds=10, memory_mb=200))
    assert reason in message  # the sandbox's budget refused it, not the process's time limit


async def test_what_passes_the_budgets_is_stopped_by_the_process_limits() -> None:
    contract = default_template_path("contract", "zh-CN").read_bytes()
    data = kinds.sample("contract", "zh-CN")
    doubling = "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}"
    bomb = asyncio.create_task(_refused(doubling, {}, Limits(seconds=2, memory_mb=200)))
    docx = await render_process.render(contract, data, Limits())  # another tenant's, meanwhile
    assert not bomb.done()  # the bomb's process does not hold up another render
    assert "苏州恒泰精密机械有限公司" in all_text(docx)
    message, seconds = await bomb
    assert message == "rendering exceeded 2 s" and seconds >= 1.9  # killed at its limit, not before
    grow = "{% set s = 'x' * 1000000 %}{{ s|replace('x', s) }}"
    message, _ = await _refused(grow, {}, Limits(seconds=10, memory_mb=64))
    assert message == "rendering exceeded 64 MB"
    wide = "{{ ''|center(n|int) }}"
    message, _ = await _refused(wide, {"n": "300000000"}, Limits(seconds=10, memory_mb=64))
    assert message == "rendering exceeded 64 MB"
    again = await render_process.render(contract, data, Limits())  # a fresh process: nothing carried over
    assert all_text(again) == all_text(render_docx(contract, data))
