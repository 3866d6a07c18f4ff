"""The committed assets are what ``app/web/build_assets.py`` builds, checked without Node: our CSS is
rebuilt from its source, every vendored file's hash matches its name and the manifest, each version is
the one ``package-lock.json`` pins, every file has its licence, and the page budget holds (page-only
libraries counted only for their pages)."""

from __future__ import annotations

import gzip
import hashlib
import json

from app.web import build_assets
from app.web.build_assets import FRONTEND, MANIFEST, PAGE_ONLY, STATIC, TEST_ONLY, TEST_VENDOR, VENDORED

REBUILD = "run `uv run python app/web/build_assets.py` (after `npm ci` in app/web/frontend)"


def _manifest() -> dict[str, dict[str, str]]:
    return json.loads((STATIC / MANIFEST).read_text(encoding="utf-8"))


def test_the_static_directory_holds_exactly_the_manifest() -> None:
    manifest = _manifest()
    assert set(manifest) == set(VENDORED) | set(PAGE_ONLY) | set(build_assets.OWN)
    on_disk = {p.name for p in STATIC.iterdir()} - {MANIFEST, "LICENSES.txt"}
    assert on_disk == {e["file"] for e in manifest.values()}, REBUILD


def test_every_file_is_named_by_its_hash() -> None:
    for logical, entry in _manifest().items():
        content = (STATIC / entry["file"]).read_bytes()
        assert hashlib.sha256(content).hexdigest() == entry["sha256"], (logical, REBUILD)
        assert entry["file"] == build_assets.hashed_name(logical, content), logical


def test_our_css_is_what_the_script_builds() -> None:
    for logical, content in build_assets.own_assets().items():
        entry = _manifest()[logical]
        assert (STATIC / entry["file"]).read_bytes() == content, REBUILD


def test_vendored_versions_are_the_locked_ones() -> None:
    locked = build_assets.locked_versions()
    pinned = json.loads((FRONTEND / "package.json").read_text(encoding="utf-8"))
    declared = {**pinned["dependencies"], **pinned["devDependencies"]}
    assert {name: locked[name] for name in declared} == declared  # exact pins, as locked
    for logical, (package, _) in (VENDORED | PAGE_ONLY).items():
        assert _manifest()[logical]["version"] == locked[package], (logical, REBUILD)
    licences = (STATIC / "LICENSES.txt").read_text(encoding="utf-8")
    for entry in _manifest().values():
        if "package" in entry:
            assert f"{entry['file']}: {entry['package']} {entry['version']}" in licences
            assert "Permission" in licences or "MIT" in licences


def test_the_test_only_files_are_vendored_with_their_licence() -> None:
    locked = build_assets.locked_versions()
    for logical, (package, _) in TEST_ONLY.items():
        assert (TEST_VENDOR / logical).stat().st_size > 100_000
        licence = (TEST_VENDOR / f"{logical}.LICENSE.txt").read_text(encoding="utf-8")
        assert licence.startswith(f"{logical}: {package} {locked[package]}")


def _gzipped(logical: str) -> int:
    return len(gzip.compress((STATIC / _manifest()[logical]["file"]).read_bytes(), 9))


def test_a_page_ships_at_most_60_kb_of_js_and_css_gzipped() -> None:
    """What every page loads (the shell: vendored files and ours) stays under 60 KB; a page-only
    library is paid only by its pages (the dashboard's figure is reported beside)."""
    shell = sum(_gzipped(logical) for logical in _manifest() if logical not in PAGE_ONLY)
    assert shell <= 60 * 1024, shell
    charts = shell + _gzipped("echarts.js")
    print(f"per-page gzipped: shell {shell} B, dashboard (shell + ECharts) {charts} B")
    assert charts <= 420 * 1024, charts  # the full ECharts build (~360 KB) and no second copy


def test_the_css_minifier_keeps_rules() -> None:
    css = "/* note */\na > b ,  c {\n  color : red ;\n  margin: 0 auto;\n}\n"
    assert build_assets.minify_css(css) == "a>b,c{color:red;margin:0 auto}\n"
