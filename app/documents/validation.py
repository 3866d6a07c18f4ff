"""Checks on an uploaded ``.docx`` template before it is stored. ``validate_template`` returns
findings (empty = accepted); each finding names what is wrong and where (part + paragraph index).

In order, each stage only when the previous passed: size (≤ 10 MB) → a real DOCX zip → zip-bomb
guard (≤ 50 MB unpacked, no member compressed more than 100:1, bounded member count) → no macros →
no external references (relationships with ``TargetMode="External"`` other than web/mail
hyperlinks, attached templates, remote images, ``INCLUDEPICTURE``/``LINK``/``DDE`` fields) → per
text part: tags split across Word runs, Jinja syntax, variables unknown to the kind, dunder
attributes, and what is certain to break the render budgets (``rendering.MAX_LOOP_ITERATIONS``,
``MAX_OUTPUT_CHARS``) however the data looks: loops over literal ``range(…)``s, lists or strings whose
iterations add up past the budget, and ``*`` of a literal past the output limit. What depends on the
data is left to the render's own limits. Paragraph indexes count ``w:p`` elements of the part from 0,
in document order.

``needed_variables`` says which values a (valid) template cannot do without: the text variables it
prints outside any ``{% if %}`` (or ``… if … else …``) that tests them and without a ``default``
filter or an ``or``. A document whose data leaves one of them blank is refused before rendering
(``app.documents.service``): a printed blank is a hole in a contract. Fields of list items (table
cells) are not counted: an empty cell is not a hole.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from io import BytesIO
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from lxml import etree

from app.documents.kinds import variables
from app.documents.rendering import MAX_LOOP_ITERATIONS, MAX_OUTPUT_CHARS, default_template_path, sandbox
from app.i18n import N_

MAX_FILE = 10 * 1024 * 1024
MAX_UNPACKED = 50 * 1024 * 1024
MAX_RATIO = 100
MAX_MEMBERS = 2000
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
_TEXT_PARTS = re.compile(r"^word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml$")
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")
_OPEN = re.compile(r"\{[{%#]")
_DOCXTPL_PREFIX = re.compile(r"(\{%-?|\{\{-?)(?:tr|tc|p|r)\s")
_DOCXTPL_CELL_TAGS = re.compile(r"\{%-?\s*(?:colspan|cellbg|vm|hm)\b.*?%\}")
_EXTERNAL_FIELDS = re.compile(r"\b(INCLUDEPICTURE|INCLUDETEXT|LINK|DDEAUTO|DDE|IMPORT|RD)\b")
_SAFE_LINK = re.compile(r"^(https?://|mailto:)", re.I)
_GLOBALS = {
    "range",
    "loop",
    "dict",
    "lipsum",
    "cycler",
    "joiner",
    "namespace",
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
}

M_TOO_LARGE = N_("The file is larger than {limit} MB")
M_NOT_DOCX = N_("The file is not a Word document (.docx)")
M_UNPACKED = N_("The file unpacks to more than {limit} MB")
M_RATIO = N_("The part {part} is compressed suspiciously well (ratio {ratio}); this looks like a zip bomb")
M_MEMBERS = N_("The file has too many parts ({count})")
M_MACRO = N_("The document contains macros ({part}); save it as a .docx without macros")
M_EXTERNAL = N_("The document refers to an external resource ({target}) in {part}; embed it instead")
M_FIELD = N_("The document has a field that loads external content ({field}) in {part}")
M_SYNTAX = N_("Template syntax error in {part}, paragraph {paragraph}: {error}")
M_UNKNOWN = N_("Unknown variable {name} in {part}, paragraph {paragraph}")
M_UNSAFE = N_("Unsafe attribute {name} in {part}, paragraph {paragraph}")
M_LOOPS = N_(
    "The loops up to {part}, paragraph {paragraph} would run {count} times; "
    "a document may run at most {limit} loop iterations"
)
M_VALUE = N_(
    "An expression in {part}, paragraph {paragraph} would make a value of {count} characters; "
    "at most {limit} are allowed"
)
M_SPLIT = N_(
    "The tag {tag} is split across Word runs in {part}, paragraph {paragraph}; "
    "retype it in one go or clear its formatting"
)
M_UNCLOSED = N_("The tag starting {tag} is not closed in the same paragraph ({part}, paragraph {paragraph})")


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    message: str  # an untranslated message id; ``params`` fill it
    part: str | None = None
    paragraph: int | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _TooBig(Exception):
    pass


def validate_template(data: bytes, kind: str) -> list[Finding]:
    """All findings for ``data`` as a template of ``kind`` (which must be a known kind)."""
    if len(data) > MAX_FILE:
        return [Finding("too-large", M_TOO_LARGE, params={"limit": MAX_FILE // 2**20})]
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return [Finding("not-docx", M_NOT_DOCX)]
    bomb = _bomb_findings(infos)
    if bomb:
        return bomb
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names or "word/document.xml" not in names:
        return [Finding("not-docx", M_NOT_DOCX)]
    budget = [MAX_UNPACKED]
    try:
        parts = {name: _read(archive, name, budget) for name in sorted(names) if _wanted(name)}
    except _TooBig:
        return [Finding("too-large-unpacked", M_UNPACKED, params={"limit": MAX_UNPACKED // 2**20})]
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError):
        return [Finding("not-docx", M_NOT_DOCX)]
    findings = _macro_findings(names, parts) + _external_findings(parts)
    if findings:
        return findings
    known = variables(kind)
    for name in sorted(parts):
        if _TEXT_PARTS.match(name):
            try:
                root = etree.fromstring(parts[name], _PARSER)
            except etree.XMLSyntaxError:
                return [Finding("not-docx", M_NOT_DOCX, part=name)]
            findings += _part_findings(name, _paragraphs(root), known)
    unique: dict[tuple[Any, ...], Finding] = {}
    for f in findings:
        unique.setdefault((f.code, f.part, f.paragraph, repr(sorted(f.params.items()))), f)
    return list(unique.values())


def _bomb_findings(infos: list[zipfile.ZipInfo]) -> list[Finding]:
    if len(infos) > MAX_MEMBERS:
        return [Finding("too-many-parts", M_MEMBERS, params={"count": len(infos)})]
    found: list[Finding] = []
    if sum(i.file_size for i in infos) > MAX_UNPACKED:
        found.append(Finding("too-large-unpacked", M_UNPACKED, params={"limit": MAX_UNPACKED // 2**20}))
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1024 * 1024 and ratio > MAX_RATIO:
            found.append(
                Finding(
                    "compression-ratio",
                    M_RATIO,
                    part=info.filename,
                    params={"part": info.filename, "ratio": int(ratio)},
                )
            )
    return found


def _wanted(name: str) -> bool:
    return (
        name == "[Content_Types].xml"
        or name.endswith(".rels")
        or bool(_TEXT_PARTS.match(name))
        or name.lower().endswith(("vbaproject.bin", "vbadata.xml"))
        or name == "word/settings.xml"
    )


def _read(archive: zipfile.ZipFile, name: str, budget: list[int]) -> bytes:
    """Read a member without trusting its declared size: stop once the shared budget is spent."""
    chunks = []
    with archive.open(name) as fh:
        while chunk := fh.read(65536):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise _TooBig()
            chunks.append(chunk)
    return b"".join(chunks)


def _macro_findings(names: set[str], parts: dict[str, bytes]) -> list[Finding]:
    found = [
        Finding("macro", M_MACRO, part=n, params={"part": n})
        for n in sorted(names)
        if n.lower().endswith(("vbaproject.bin", "vbadata.xml"))
    ]
    types = parts.get("[Content_Types].xml", b"").decode("utf-8", "replace")
    if not found and ("macroEnabled" in types or "vbaProject" in types):
        found.append(
            Finding("macro", M_MACRO, part="[Content_Types].xml", params={"part": "[Content_Types].xml"})
        )
    return found


def _external_findings(parts: dict[str, bytes]) -> list[Finding]:
    found: list[Finding] = []
    for name, data in sorted(parts.items()):
        if name.endswith(".rels"):
            try:
                root = etree.fromstring(data, _PARSER)
            except etree.XMLSyntaxError:
                found.append(Finding("not-docx", M_NOT_DOCX, part=name))
                continue
            for rel in root:
                rel_type = str(rel.get("Type", "")).rsplit("/", 1)[-1]
                target = str(rel.get("Target", ""))
                external = rel.get("TargetMode") == "External" or rel_type == "attachedTemplate"
                if external and not (rel_type == "hyperlink" and _SAFE_LINK.match(target)):
                    found.append(
                        Finding(
                            "external-reference",
                            M_EXTERNAL,
                            part=name,
                            params={"target": f"{rel_type}: {target}"[:200], "part": name},
                        )
                    )
        elif _TEXT_PARTS.match(name) or name == "word/settings.xml":
            text = data.decode("utf-8", "replace")
            codes = re.findall(r"<w:instrText[^>]*>([^<]*)<", text) + re.findall(r'w:instr="([^"]*)"', text)
            for match in sorted({m.group(1) for c in codes for m in [_EXTERNAL_FIELDS.search(c)] if m}):
                found.append(
                    Finding("external-field", M_FIELD, part=name, params={"field": match, "part": name})
                )
    return found


def _paragraphs(root: Any) -> list[list[tuple[int, str]]]:
    """Each ``w:p`` of the part, in order: its text as (run number, text) pieces. Text of a nested
    paragraph (a text box) belongs to the nested one only."""
    paragraphs = list(root.iter(W + "p"))
    index = {id(p): i for i, p in enumerate(paragraphs)}
    pieces: list[list[tuple[int, str]]] = [[] for _ in paragraphs]
    run_ids: dict[int, int] = {}
    for t in root.iter(W + "t"):
        owner_p = next((a for a in t.iterancestors(W + "p")), None)
        owner_r = next((a for a in t.iterancestors(W + "r")), None)
        if owner_p is None:
            continue
        run = run_ids.setdefault(id(owner_r) if owner_r is not None else id(t), len(run_ids))
        pieces[index[id(owner_p)]].append((run, (t.text or "").replace("\n", " ")))
    return pieces


def _part_findings(
    part: str, paragraphs: list[list[tuple[int, str]]], known: dict[str, str]
) -> list[Finding]:
    found: list[Finding] = []
    lines = []
    for number, pieces in enumerate(paragraphs):
        text = "".join(t for _, t in pieces)
        owner = [run for run, t in pieces for _ in t]
        lines.append(text)
        where = {"part": part, "paragraph": number}
        closed_spans = []
        for match in _TAG.finditer(text):
            closed_spans.append((match.start(), match.end()))
            if (
                owner[match.start()] != owner[match.end() - 1]
                or owner[match.start()] != owner[match.start() + 1]
            ):
                found.append(
                    Finding("split-tag", M_SPLIT, part, number, {"tag": match.group(0)[:60], **where})
                )
        for match in _OPEN.finditer(text):
            if not any(s <= match.start() < e for s, e in closed_spans):
                found.append(
                    Finding(
                        "unclosed-tag",
                        M_UNCLOSED,
                        part,
                        number,
                        {"tag": text[match.start() : match.start() + 30], **where},
                    )
                )
    if found:
        return found
    source = _jinja_source(lines)
    try:
        tree = sandbox().parse(source)
    except TemplateSyntaxError as exc:
        number = max((exc.lineno or 1) - 1, 0)
        return [
            Finding(
                "jinja-syntax",
                M_SYNTAX,
                part,
                number,
                {"error": exc.message or str(exc), "part": part, "paragraph": number},
            )
        ]
    _Names(part, known, found).visit(tree, {})
    return found


def _literal_length(node: nodes.Node) -> int | None:
    """How many items a loop over ``node`` certainly has: a ``range`` of literal integers, a literal
    list, tuple or string, or one of those ``*`` a literal; None when that depends on the data."""
    if isinstance(node, nodes.List | nodes.Tuple):
        return len(node.items)
    if isinstance(node, nodes.Const) and isinstance(node.value, str | tuple | list):
        return len(node.value)
    if isinstance(node, nodes.Mul):
        for sequence, times in ((node.left, node.right), (node.right, node.left)):
            length, count = _literal_length(sequence), _literal_int(times)
            if length is not None and count is not None:
                return length * max(count, 0)
        return None
    if (
        isinstance(node, nodes.Call)
        and isinstance(node.node, nodes.Name)
        and node.node.name == "range"
        and not (node.kwargs or node.dyn_args or node.dyn_kwargs)
        and 1 <= len(node.args) <= 3
        and all(_literal_int(a) is not None for a in node.args)
    ):
        bounds = [_literal_int(a) or 0 for a in node.args]
        if len(bounds) == 1:
            bounds.insert(0, 0)
        start, stop, step = (*bounds, 1)[:3]
        return max(0, -((start - stop) // step)) if step else None  # len(range(…)), without building it
    return None


def _literal_int(node: nodes.Node) -> int | None:
    if isinstance(node, nodes.Const) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, nodes.Neg):
        inner = _literal_int(node.node)
        return None if inner is None else -inner
    return None


def _literal_product(sequence: nodes.Node, times: nodes.Node) -> int | None:
    """The length of ``sequence * times`` when ``times`` is a literal integer: exact for a literal
    string or list, at least ``times`` otherwise (the data are text: a variable is a string)."""
    count = _literal_int(times)
    if count is None or (isinstance(sequence, nodes.Const) and isinstance(sequence.value, int | float)):
        return None  # not a literal count, or a product of numbers
    return count * (_literal_length(sequence) or 1)


def _jinja_source(lines: list[str]) -> str:
    """The part's paragraphs as one Jinja source, a line per paragraph, docxtpl's tag prefixes
    (``{%tr``, ``{{p`` …) and cell tags removed: what Jinja parses after docxtpl's preprocessing."""
    return "\n".join(_DOCXTPL_CELL_TAGS.sub("", _DOCXTPL_PREFIX.sub(r"\1 ", line)) for line in lines)


def needed_variables(data: bytes, kind: str) -> list[str]:
    """The text variables of ``kind`` that the template ``data`` prints unguarded (sorted): see the
    module docstring. ``data`` must have passed ``validate_template`` (else ``ValueError``)."""
    known = variables(kind)
    walker = _Needs(known)
    with zipfile.ZipFile(BytesIO(data)) as archive:
        for name in sorted(archive.namelist()):
            if _TEXT_PARTS.match(name):
                root = etree.fromstring(archive.read(name), _PARSER)
                lines = ["".join(t for _, t in pieces) for pieces in _paragraphs(root)]
                try:
                    walker.walk(sandbox().parse(_jinja_source(lines)), frozenset(), frozenset())
                except TemplateSyntaxError as exc:
                    raise ValueError(f"{name}: {exc}") from exc
    return sorted(walker.needs)


@lru_cache(maxsize=32)
def default_needs(kind: str, locale: str) -> tuple[str, ...]:
    """``needed_variables`` of the built-in default template of ``kind`` in ``locale``."""
    return tuple(needed_variables(default_template_path(kind, locale).read_bytes(), kind))


class _Needs:
    """Collects the catalogue paths printed outside a guard (see ``needed_variables``)."""

    def __init__(self, known: dict[str, str]) -> None:
        self.known = known
        self.roots = {p.split(".")[0].split("[")[0] for p in known}
        self.needs: set[str] = set()
        self.assigned: set[str] = set()

    def walk(self, node: nodes.Node, shadow: frozenset[str], guards: frozenset[str]) -> None:
        if isinstance(node, nodes.For):
            names = {t.name for t in _targets(node.target)}
            inner = shadow | names | {"loop"}
            for child in node.body:
                self.walk(child, inner, guards)
            for child in node.else_:
                self.walk(child, shadow, guards)
            return
        if isinstance(node, nodes.Macro | nodes.CallBlock):
            inner = shadow | {a.name for a in node.args} | {"caller", "varargs", "kwargs"}
            for child in node.body:
                self.walk(child, inner, guards)
            return
        if isinstance(node, nodes.Assign | nodes.AssignBlock):
            self.assigned.update(t.name for t in _targets(node.target))
            return
        if isinstance(node, nodes.If):
            inner_guards = guards | self.paths(node.test, shadow)
            for child in [*node.body, *node.elif_, *node.else_]:
                self.walk(child, shadow, inner_guards)
            return
        if isinstance(node, nodes.Output):
            for expr in node.nodes:
                self.printed(expr, shadow, guards)
            return
        for child in node.iter_child_nodes():
            self.walk(child, shadow, guards)

    def printed(self, node: nodes.Node, shadow: frozenset[str], guards: frozenset[str]) -> None:
        if isinstance(node, nodes.Filter) and node.name in ("default", "d"):
            return
        if isinstance(node, nodes.Or):
            return
        if isinstance(node, nodes.CondExpr):
            self.printed(node.expr1, shadow, guards | self.paths(node.test, shadow))
            if node.expr2 is not None:
                self.printed(node.expr2, shadow, guards)
            return
        if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Name):
            path = self.path(node, shadow)
            if path is not None:
                guarded = any(path == g or path.startswith(g + ".") for g in guards)
                if self.known.get(path) == "text" and "[]" not in path and not guarded:
                    self.needs.add(path)
                return
        for child in node.iter_child_nodes():
            self.printed(child, shadow, guards)

    def paths(self, node: nodes.Node, shadow: frozenset[str]) -> frozenset[str]:
        """Every variable path a test expression mentions (the longest chains)."""
        if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Name):
            path = self.path(node, shadow)
            if path is not None:
                return frozenset({path})
        found: frozenset[str] = frozenset()
        for child in node.iter_child_nodes():
            found |= self.paths(child, shadow)
        return found

    def path(self, node: nodes.Node, shadow: frozenset[str]) -> str | None:
        """``party_b.full_name`` for that chain of attributes on a catalogue root, else None."""
        chain: list[str] = []
        while isinstance(node, nodes.Getattr | nodes.Getitem):
            if isinstance(node, nodes.Getattr):
                chain.append(node.attr)
            elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                chain.append(node.arg.value)
            else:
                return None
            node = node.node
        if not isinstance(node, nodes.Name) or node.name in shadow or node.name in self.assigned:
            return None
        if node.name not in self.roots:
            return None
        path = ".".join([node.name, *reversed(chain)])
        return path if path in self.known else None


def _targets(target: nodes.Node) -> list[nodes.Name]:
    return [target] if isinstance(target, nodes.Name) else list(target.find_all(nodes.Name))


class _Names:
    """Walks a Jinja AST resolving every variable path against the kind's catalogue."""

    def __init__(self, part: str, known: dict[str, str], found: list[Finding]) -> None:
        self.part, self.known, self.found = part, known, found
        self.roots = {p.split(".")[0].split("[")[0] for p in known}
        self.nesting = 1  # iterations of the loops around the node being visited, as far as certain
        self.iterations = 0  # of all loops so far
        self.loops_reported = False

    def report(self, code: str, message: str, node: nodes.Node, name: str) -> None:
        number = max(node.lineno - 1, 0)
        self.found.append(
            Finding(code, message, self.part, number, {"name": name, "part": self.part, "paragraph": number})
        )

    def report_size(self, code: str, message: str, node: nodes.Node, count: int, limit: int) -> None:
        number = max(node.lineno - 1, 0)
        where = {"part": self.part, "paragraph": number}
        params = {"count": count, "limit": limit, **where}
        self.found.append(Finding(code, message, self.part, number, params))

    def visit(self, node: nodes.Node, scope: dict[str, str | None]) -> None:
        if isinstance(node, nodes.For):
            self.visit(node.iter, scope)
            outer = self.nesting
            self.nesting = outer * (_literal_length(node.iter) or 1)
            self.iterations += self.nesting
            if self.iterations > MAX_LOOP_ITERATIONS and not self.loops_reported:
                self.loops_reported = True
                self.report_size("too-many-iterations", M_LOOPS, node, self.iterations, MAX_LOOP_ITERATIONS)
            inner = dict(scope, loop=None)
            path = self.resolve(node.iter, scope)
            item = path + "[]" if path and self.known.get(path) == "list" else None
            for target in _targets(node.target):
                inner[target.name] = item if isinstance(node.target, nodes.Name) else None
            for child in [*(node.body or []), *([node.test] if node.test else [])]:
                self.visit(child, inner)
            self.nesting = outer
            for child in node.else_ or []:
                self.visit(child, scope)
            return
        if isinstance(node, nodes.Mul):
            size = _literal_product(node.left, node.right) or _literal_product(node.right, node.left)
            if size is not None and size > MAX_OUTPUT_CHARS:
                self.report_size("value-too-large", M_VALUE, node, size, MAX_OUTPUT_CHARS)
        if isinstance(node, nodes.Assign | nodes.AssignBlock):
            for target in _targets(node.target):
                scope[target.name] = None
            if isinstance(node, nodes.Assign):
                self.visit(node.node, scope)
            else:
                for child in node.body:
                    self.visit(child, scope)
            return
        if isinstance(node, nodes.Macro | nodes.CallBlock):
            inner = dict(scope, caller=None, varargs=None, kwargs=None)
            for arg in node.args:
                inner[arg.name] = None
            for child in node.body:
                self.visit(child, inner)
            return
        if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Name):
            self.resolve(node, scope, report=True)
            return
        for child in node.iter_child_nodes():
            self.visit(child, scope)

    def resolve(self, node: nodes.Node, scope: dict[str, str | None], report: bool = False) -> str | None:
        """The catalogue path of ``node`` (``party_a.full_name``, ``lines[]``), or None when it is
        not a plain variable path; reports unknown names and unsafe attributes when asked."""
        chain: list[str | None] = []
        base = node
        while isinstance(base, nodes.Getattr | nodes.Getitem):
            if isinstance(base, nodes.Getattr):
                chain.append(base.attr)
            else:
                key = base.arg.value if isinstance(base.arg, nodes.Const) else None
                chain.append(key if isinstance(key, str) else None)
                if report:
                    self.visit(base.arg, scope)
            base = base.node
        chain.reverse()
        for attr in chain:
            if report and attr and attr.startswith("_"):
                self.report("unsafe-attribute", M_UNSAFE, node, attr)
                return None
        if not isinstance(base, nodes.Name):
            if report:
                self.visit(base, scope)
            return None
        if base.name in scope:
            path = scope[base.name]
        elif base.name in self.roots:
            path = base.name
        elif base.name in _GLOBALS:
            return None
        else:
            if report:
                self.report("unknown-variable", M_UNKNOWN, node, base.name)
            return None
        for attr in chain:
            kind = self.known.get(path) if path else None
            if kind not in ("object", "list") or (attr is None) != (kind == "list"):
                return None
            path = f"{path}[]" if attr is None else f"{path}.{attr}"
            if path not in self.known:
                if report and self.known.get(path.rsplit(".", 1)[0]) == "object":
                    self.report("unknown-variable", M_UNKNOWN, node, path)
                return None
        return path
