"""Build the web app's assets into ``app/web/static/``: the pinned npm packages' own minified files and
our stylesheet, each under a content-hashed name, plus ``manifest.json`` (logical name → file) and
``LICENSES.txt`` (the licence of every vendored file). A page-only library (``PAGE_ONLY``: ECharts) is
built the same way; only the pages that draw charts load it.

    cd app/web/frontend && npm ci --ignore-scripts   # the versions pinned in package-lock.json
    uv run python app/web/build_assets.py

Reproducible: the same inputs give byte-identical outputs, so the committed files can be checked.
``tests/unit/test_web_assets.py`` does so without Node: it rebuilds our CSS from ``frontend/app.css``,
checks each vendored file's hash against its name and the manifest, and each version against
``package-lock.json``. axe-core is for the tests only: it goes to ``tests/e2e/vendor/``, never served.
Stale hashed files are removed, so the directory holds exactly what the manifest names.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

WEB = Path(__file__).resolve().parent
FRONTEND = WEB / "frontend"
STATIC = WEB / "static"
TEST_VENDOR = WEB.parents[1] / "tests" / "e2e" / "vendor"
MANIFEST = "manifest.json"

# logical name -> (npm package, file inside it); the package's licence comes with it
VENDORED = {
    "htmx.js": ("htmx.org", "dist/htmx.min.js"),
    "alpine.js": ("@alpinejs/csp", "dist/cdn.min.js"),
}
# Heavy libraries only some pages load (``{% block scripts %}`` of their template), served like the
# vendored files but kept out of the budget every page pays (``tests/unit/test_web_assets.py``).
PAGE_ONLY = {"echarts.js": ("echarts", "dist/echarts.min.js")}
TEST_ONLY = {"axe.js": ("axe-core", "axe.min.js")}
# our own files: logical name -> sources under frontend/, concatenated in this order (globs sorted).
# Each area of the app keeps its styles in ``css/<area>.css`` and its scripts (Alpine components,
# registered on ``alpine:init``; no inline script anywhere) in ``js/<area>.js``.
OWN = {"app.css": ("app.css", "css/*.css"), "app.js": ("app.js", "js/*.js")}
LICENCE_FILES = ("LICENSE", "LICENSE.md", "LICENSE.txt")
# Alpine's package ships no licence file (its package.json says MIT): ours holds the text. Its bundle
# includes @vue/reactivity and @vue/shared, whose licences come along.
EXTRA_LICENCES = {"@alpinejs/csp": FRONTEND / "licences" / "alpinejs.txt"}
BUNDLED = {"@alpinejs/csp": ("@vue/reactivity", "@vue/shared"), "echarts": ("zrender", "tslib")}
# Further licence and notice files a package ships beside its licence (Apache-2.0 asks for NOTICE).
NOTICES = {"echarts": ("NOTICE", "licenses/LICENSE-d3")}


def minify_css(text: str) -> str:
    """Comments and needless whitespace removed; nothing else rewritten (strings hold no ``/*``)."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*([{}:;,>])\s*", r"\1", text)
    return text.replace(";}", "}").strip() + "\n"


def hashed_name(logical: str, content: bytes) -> str:
    stem, dot, ext = logical.rpartition(".")
    return f"{stem}.{hashlib.sha256(content).hexdigest()[:12]}{dot}{ext}"


def locked_versions() -> dict[str, str]:
    lock = json.loads((FRONTEND / "package-lock.json").read_text(encoding="utf-8"))
    return {
        path.removeprefix("node_modules/"): entry["version"]
        for path, entry in lock["packages"].items()
        if path.startswith("node_modules/")
    }


def _own_licence(package: str) -> str:
    root = FRONTEND / "node_modules" / package
    for name in LICENCE_FILES:
        if (root / name).exists():
            return (root / name).read_text(encoding="utf-8")
    return EXTRA_LICENCES[package].read_text(encoding="utf-8")


def _licence(package: str) -> str:
    """The package's licence text, then those of the packages its file bundles."""
    versions = locked_versions()
    root = FRONTEND / "node_modules" / package
    parts = [_own_licence(package)]
    parts += [(root / name).read_text(encoding="utf-8") for name in NOTICES.get(package, ())]
    parts += [f"Bundled: {dep} {versions[dep]}\n\n{_own_licence(dep)}" for dep in BUNDLED.get(package, ())]
    return "\n\n".join(parts)


def _vendored(package: str, file: str) -> bytes:
    root = FRONTEND / "node_modules" / package
    installed = json.loads((root / "package.json").read_text(encoding="utf-8"))["version"]
    if installed != locked_versions()[package]:
        raise SystemExit(f"{package} {installed} is installed, the lock pins another: run npm ci")
    return (root / file).read_bytes()


def _sources(patterns: tuple[str, ...]) -> list[Path]:
    return [path for pattern in patterns for path in sorted(FRONTEND.glob(pattern))]


def own_assets() -> dict[str, bytes]:
    """Our own files, built from ``frontend/`` (no Node needed): CSS minified, scripts joined as
    written (each file an IIFE or listener of its own)."""
    built = {}
    for logical, patterns in OWN.items():
        texts = [path.read_text(encoding="utf-8") for path in _sources(patterns)]
        if logical.endswith(".css"):
            built[logical] = minify_css("\n".join(texts)).encode()
        else:
            built[logical] = ("\n".join(text.strip() for text in texts) + "\n").encode()
    return built


def manifest_entry(logical: str, content: bytes, package: str | None) -> dict[str, str]:
    entry = {"file": hashed_name(logical, content), "sha256": hashlib.sha256(content).hexdigest()}
    if package is not None:
        entry |= {"package": package, "version": locked_versions()[package]}
    return entry


def build(static: Path = STATIC, test_vendor: Path = TEST_VENDOR) -> dict[str, dict[str, str]]:
    """Write the assets, the manifest and the licences; answer the manifest."""
    static.mkdir(parents=True, exist_ok=True)
    test_vendor.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    manifest: dict[str, dict[str, str]] = {}
    licences = []
    for logical, (package, file) in (VENDORED | PAGE_ONLY).items():
        content = _vendored(package, file)
        manifest[logical] = manifest_entry(logical, content, package)
        files[manifest[logical]["file"]] = content
        licences.append(
            f"{manifest[logical]['file']}: {package} {locked_versions()[package]}\n\n{_licence(package)}"
        )
    for logical, content in own_assets().items():
        manifest[logical] = manifest_entry(logical, content, None)
        files[manifest[logical]["file"]] = content
    for old in static.iterdir():
        if old.name not in files and old.name not in (MANIFEST, "LICENSES.txt"):
            old.unlink()
    for name, content in files.items():
        (static / name).write_bytes(content)
    (static / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (static / "LICENSES.txt").write_text(("\n" + "=" * 72 + "\n\n").join(licences), encoding="utf-8")
    for logical, (package, file) in TEST_ONLY.items():
        (test_vendor / logical).write_bytes(_vendored(package, file))
        version = locked_versions()[package]
        (test_vendor / f"{logical}.LICENSE.txt").write_text(
            f"{logical}: {package} {version}\n\n{_licence(package)}", encoding="utf-8"
        )
    return manifest


if __name__ == "__main__":
    built = build()
    sys.stdout.write("".join(f"{k} -> {v['file']}\n" for k, v in sorted(built.items())))
