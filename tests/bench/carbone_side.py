"""Carbone (the npm ``carbone`` 3.x report generator) on the same contract, for ``bench_documents
--carbone``: installed with npm into a temporary directory (never the repository), run by a small
node script that renders the contract to PDF ``n`` times, ``concurrency`` at a time, with as many
LibreOffice factories as the product has converters.

What Carbone does (read from its ``lib/converter.js`` and ``lib/converter.py``): each factory is one
``soffice --headless --accept=pipe,...`` plus one python (the system one, with ``uno``) that talks to
it over a named pipe; node writes the rendered file to a temporary directory and sends its path over
the python's stdin; the python loads it (``Hidden``, ``ReadOnly``, ``QUIET_UPDATE``), calls
``calculateAll``, ``updateLinks``, ``refresh`` and updates every index, then ``storeToURL`` with
``writer_pdf_Export`` and default options. One factory by default (``factories``); jobs queue in
node for a free factory. Its templating is string work in node (a few ms).

The contract becomes a Carbone template by rewriting the docxtpl tags: ``{{ a.b }}`` → ``{d.a.b}``, a
``{%tr for x in xs %}`` row pair → Carbone's two-row ``{d.xs[i].f}`` / ``{d.xs[i+1].f}`` loop, and
the conditionals (every value the sample tests is present, and its pictures are blank) dropped.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from app.settings import get_settings

CARBONE = "carbone@3.8.2"
_ROW = re.compile(r"<w:tr[ >].*?</w:tr>", re.DOTALL)
_SCRIPT = r"""
const carbone = require(process.argv[2]);
const readline = require('readline');
const [template, dataFile, factories] = process.argv.slice(3);
const data = JSON.parse(require('fs').readFileSync(dataFile, 'utf8'));
function one() {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    carbone.render(template, data, { convertTo: 'pdf' }, (err, pdf) => {
      if (err) return reject(err);
      if (!pdf || pdf.length < 1000) return reject(new Error('no pdf'));
      resolve(Number(process.hrtime.bigint() - started) / 1e6);
    });
  });
}
carbone.set({ factories: Number(factories), startFactory: true });
(async () => {
  const lanes = Array.from({ length: Number(factories) }, one);
  await Promise.all(lanes);  // every factory warm
  console.log(JSON.stringify({ ready: true }));
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const { n, concurrency } = JSON.parse(line);
    const started = process.hrtime.bigint();
    const times = [];
    let next = 0;
    async function lane() { while (next < n) { next++; times.push(await one()); } }
    try {
      await Promise.all(Array.from({ length: concurrency }, lane));
      const wall = Number(process.hrtime.bigint() - started) / 1e6;
      console.log(JSON.stringify({ times, wall_ms: wall }));
    } catch (err) { console.log(JSON.stringify({ error: String(err) })); }
  }
  process.exit(0);
})();
"""


def _loop_rows(xml: str) -> str:
    rows = list(_ROW.finditer(xml))
    out, last, i = [], 0, 0
    while i < len(rows):
        row = rows[i]
        text = row.group(0)
        loop = re.search(r"\{%tr for (\w+) in ([\w.]+) %\}", text)
        if loop and i + 2 < len(rows) and "{%tr endfor %}" in rows[i + 2].group(0):
            var, items = loop.groups()
            body = rows[i + 1].group(0)
            first = re.sub(r"\{\{ " + var + r"\.(\w+) \}\}", r"{d." + items + r"[i].\1}", body)
            second = re.sub(r"\{\{ " + var + r"\.(\w+) \}\}", r"{d." + items + r"[i+1].\1}", body)
            out += [xml[last : row.start()], first, second]
            last, i = rows[i + 2].end(), i + 3
            continue
        if re.search(r"\{%tr (?:if [^%]*|endif) %\}", text):
            out.append(xml[last : row.start()])
            last = row.end()
        i += 1
    out.append(xml[last:])
    return "".join(out)


def template(docx: bytes) -> bytes:
    """The docxtpl ``docx`` as a Carbone template (see the module docstring)."""
    source = zipfile.ZipFile(io.BytesIO(docx))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("word/") and item.filename.endswith(".xml") and b"{" in data:
                xml = _loop_rows(data.decode())
                xml = re.sub(r"\{%-? (?:if [^%]*|endif) -?%\}", "", xml)
                xml = re.sub(r"\{\{ party_b\.(?:logo|seal) \}\}", "", xml)
                xml = re.sub(r"\{\{ ([\w.]+) \}\}", r"{d.\1}", xml)
                assert "{{" not in xml and "{%" not in xml, f"untranslated tag in {item.filename}"
                data = xml.encode()
            target.writestr(item, data)
    return buffer.getvalue()


class Carbone:
    """Carbone installed in a temporary directory and running (its factories warm) until ``close``."""

    def __init__(self, docx_template: bytes, data: dict[str, Any], factories: int) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="acre-bench-carbone-"))
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("--carbone needs node and npm")
        subprocess.run(
            [
                npm,
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                "--prefix",
                str(self.dir),
                CARBONE,
            ],
            check=True,
            capture_output=True,
        )
        (self.dir / "contract.docx").write_bytes(template(docx_template))
        (self.dir / "data.json").write_text(json.dumps(data, ensure_ascii=False))
        (self.dir / "run.js").write_text(_SCRIPT)
        # Carbone looks for ``soffice.bin`` on PATH (on Linux) and a ``python3`` beside it: here both
        # are the ones the product's converters use.
        bin_dir = self.dir / "bin"
        bin_dir.mkdir()
        (bin_dir / "python3").symlink_to(get_settings().uno_python)
        soffice = shutil.which(get_settings().soffice_path)
        if soffice is None:
            raise RuntimeError("--carbone needs LibreOffice")
        (bin_dir / "soffice.bin").symlink_to(Path(soffice).resolve().with_name("soffice.bin"))
        env = dict(os.environ, PATH=f"{bin_dir}:{os.environ.get('PATH', '')}")
        self.proc = subprocess.Popen(
            [
                "node",
                str(self.dir / "run.js"),
                str(self.dir / "node_modules" / "carbone"),
                str(self.dir / "contract.docx"),
                str(self.dir / "data.json"),
                str(factories),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=self.dir,
            env=env,
        )
        assert self.proc.stdout is not None
        json.loads(self.proc.stdout.readline())  # ready: the factories are warm

    def run(self, n: int, concurrency: int) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"n": n, "concurrency": concurrency}) + "\n")
        self.proc.stdin.flush()
        answer: dict[str, Any] = json.loads(self.proc.stdout.readline())
        if "error" in answer:
            raise RuntimeError(f"carbone: {answer['error']}")
        return answer

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
