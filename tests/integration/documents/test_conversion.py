"""DOCX → PDF through warm unoservers (and the one-shot fallback), Chinese text included; a crashed
unoserver is restarted. Needs LibreOffice and python3-uno (skips with the reason otherwise)."""

from __future__ import annotations

import os
import signal

import pytest

from app.documents import convert, kinds
from app.documents.rendering import default_template_path, render_docx
from tests.integration.documents.conftest import pdf_text

EXPECTED_PDF = {
    "contract": {
        "zh-CN": ["软件销售合同", "苏州恒泰精密机械有限公司", "第四条", "同版本升级", "第1页/共"],
        "en": ["Software Sales Contract", "SuzhouHengtaiPrecisionMachinery", "Page1of"],
    },
    "proposal_requirements": {
        "zh-CN": ["需求方案", "呈送", "文档控制", "联系我们"],
        "en": ["Requirements Proposal", "Document control", "Contact us"],
    },
    "proposal_product": {"zh-CN": ["产品方案", "产品模块"], "en": ["Product Proposal", "Modules"]},
    "proposal_pricing": {"zh-CN": ["报价方案", "价格明细"], "en": ["Pricing Proposal", "Prices"]},
    "quote": {"zh-CN": ["报价单", "第 2 轮"], "en": ["Quotation", "Round 2"]},
    "handover": {
        "zh-CN": ["客户移交表", "杭州云帆物流有限公司", "下周安排产品演示"],
        "en": ["Customer Handover Sheet", "Hangzhou Yunfan Logistics"],
    },
    "acceptance": {
        "zh-CN": ["安装验收单", "QM-A-2026-0318", "恒泰精密ERP项目", "同意验收"],
        "en": ["Installation Acceptance Note", "QM-A-2026-0318", "Hengtai ERP project", "accepts"],
    },
}


@pytest.mark.parametrize("kind", sorted(kinds.KINDS))
@pytest.mark.parametrize("locale", kinds.LOCALES)
async def test_default_templates_convert_to_pdf_with_their_text(
    needs_unoserver: None, stack: object, kind: str, locale: str
) -> None:
    data = kinds.sample(kind, locale)
    docx = render_docx(default_template_path(kind, locale).read_bytes(), data)
    pdf, method = await convert.get_converter().convert(docx)
    assert pdf.startswith(b"%PDF") and method == "unoserver"
    text = pdf_text(pdf)
    compact = "".join(text.split())  # pdftotext's layout spacing is not the document's
    for value in EXPECTED_PDF[kind][locale]:
        assert "".join(value.split()) in compact, value
    if kind == "contract":
        assert "[[SIGN:party_a]]" in text and "[[SIGN:party_b]]" in text  # the signing step's anchors
        assert data["lines"][29]["amount"] in compact


async def test_oneshot_soffice_converts_chinese(needs_soffice: None, stack: object) -> None:
    docx = render_docx(
        default_template_path("handover", "zh-CN").read_bytes(), kinds.sample("handover", "zh-CN")
    )
    text = pdf_text(await convert.get_converter().oneshot(docx))
    assert "客户移交表" in text and "无锡华立电子科技有限公司" in text


async def test_a_crashed_unoserver_is_restarted(needs_unoserver: None, stack: object) -> None:
    converter = convert.get_converter()
    docx = render_docx(default_template_path("quote", "en").read_bytes(), kinds.sample("quote", "en"))
    await converter.convert(docx)  # started and warm
    victim = converter.servers[0]
    assert victim.process is not None
    before = victim.restarts
    os.killpg(victim.process.pid, signal.SIGKILL)
    victim.process.wait()
    assert not victim.alive()
    results = [await converter.convert(docx) for _ in converter.servers]  # reaches the dead one too
    assert all(pdf.startswith(b"%PDF") for pdf, _ in results)
    assert victim.alive() and victim.ready and victim.restarts == before + 1
    assert "Quotation" in pdf_text((await converter.convert(docx))[0])


def test_converters_die_with_their_worker(needs_unoserver: None, tmp_path: object) -> None:
    """A worker killed with SIGKILL (no shutdown hook runs) leaves no LibreOffice behind."""
    import subprocess
    import sys
    import time

    script = (
        "import asyncio, os, sys\nfrom app.documents.convert import Converter\n"
        "async def main():\n    c = Converter()\n    await c.start()\n"
        "    print(' '.join(str(s.process.pid) for s in c.servers), flush=True)\n"
        "    await asyncio.sleep(600)\nasyncio.run(main())\n"
    )
    env = {**os.environ, "ACRE_ENVIRONMENT": "test", "ACRE_UNOSERVER_COUNT": "1"}
    worker = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    assert worker.stdout is not None
    try:
        line = ""
        while not line.replace(" ", "").isdigit():  # skip log lines
            line = worker.stdout.readline().strip()
            assert line or worker.poll() is None, "the worker exited before its converters started"
        groups = [int(pid) for pid in line.split()]
        assert groups and all(os.getpgid(g) == g for g in groups)  # servers are up, each leading its group
    finally:
        worker.kill()
        worker.wait()

    def group_alive(pgid: int) -> bool:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True

    for _ in range(100):  # the watchdog notices within about a second
        if not any(group_alive(g) for g in groups):
            break
        time.sleep(0.2)
    assert not any(group_alive(g) for g in groups)
