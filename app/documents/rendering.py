"""DOCX rendering with docxtpl inside a sandboxed Jinja environment.

Templates are tenant-supplied code: the environment is ``SandboxedEnvironment`` (no dunder
attributes, no unsafe calls), ``StrictUndefined`` (a missing value is an error, not a blank in a
contract) and autoescaped (a ``&`` or ``<`` in a customer's name cannot break the document's XML).
A template that cannot be rendered raises ``TemplateBroken`` with a human reason: the caller fails
the document for good (rendering the same template again gives the same error).

The sandbox also keeps a budget per render: all loops together run at most ``MAX_LOOP_ITERATIONS``
times, and ``{{ … }}`` output, like any one value made by ``*``, stays under ``MAX_OUTPUT_CHARS``;
``**`` refuses huge integers. These stop the obvious bombs at once with a clear reason, but they are
not the guarantee (a filter such as ``center(10**8)`` or a macro calling itself twice still gets
through): that is ``render_process``, which runs every render in a child process with CPU, memory and
wall-clock limits. ``render_docx`` itself is unbounded: only the child process should call it.

Pictures (the company profile's logo and seal) are passed beside the data, as bytes for a variable
path (``party_b.logo``): the value there becomes a docxtpl ``InlineImage`` of the size in
``IMAGE_SIZES``, so ``{{ party_b.logo }}`` prints the picture (and ``{% if party_b.logo %}`` tests it).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
from collections.abc import Iterable, Iterator, MutableMapping
from pathlib import Path
from types import CodeType
from typing import Any

from docx.shared import Length, Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import StrictUndefined, Template, TemplateError, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

DEFAULTS_DIR = Path(__file__).resolve().parents[2] / "doc_templates"
MAX_LOOP_ITERATIONS = 100_000  # all loops of one render together
MAX_OUTPUT_CHARS = 5_000_000  # all {{ … }} output of one render, and any one value made by `*`
_MAX_POWER_BITS = 4096
# path → (width, height): one given, the other follows the picture's proportions
IMAGE_SIZES: dict[str, tuple[Length | None, Length | None]] = {
    "party_b.logo": (None, Mm(9)),
    "party_b.seal": (Mm(40), None),  # a company seal is 40 mm across
}


class TemplateBroken(Exception):
    """The template (not the infrastructure) is at fault; ``str(exc)`` says why, for humans."""


class _CountedLoops(CodeGenerator):
    """Compiles every ``{% for x in xs %}`` as ``for x in environment.count_loop(xs)``."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        counted = copy.copy(node)
        counted.iter = nodes.Call(
            nodes.EnvironmentAttribute("count_loop"), [node.iter], [], None, None, lineno=node.lineno
        )
        super().visit_For(counted, frame)


# Compiled code of the shipped templates' parts, by sha256 of the Jinja source: filled once by
# ``compile_shipped`` in the render server before it forks (its children inherit it), never from a
# tenant's template. A part whose source is the same text runs the same code whoever uploaded it;
# any other source is compiled afresh in the child, as always.
_SHIPPED_CODE: dict[bytes, CodeType] = {}
_recording = False


class _Sandbox(SandboxedEnvironment):
    code_generator_class = _CountedLoops
    intercepted_binops = frozenset({"*", "**"})

    def from_string(
        self,
        source: str | nodes.Template,
        globals: MutableMapping[str, Any] | None = None,
        template_class: type[Template] | None = None,
    ) -> Template:
        if not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        key = hashlib.sha256(source.encode()).digest()
        code = _SHIPPED_CODE.get(key)
        if code is None:
            code = self.compile(source)
            if _recording:
                _SHIPPED_CODE[key] = code
        cls = template_class or self.template_class
        return cls.from_code(self, code, self.make_globals(globals), None)

    def __init__(self) -> None:
        super().__init__(
            undefined=StrictUndefined, autoescape=True, keep_trailing_newline=True, finalize=self._output
        )
        self.iterations = 0
        self.output_chars = 0

    def count_loop(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            self.iterations += 1
            if self.iterations > MAX_LOOP_ITERATIONS:
                raise SecurityError(f"the template's loops ran more than {MAX_LOOP_ITERATIONS:,} times")
            yield item

    def _output(self, value: Any) -> Any:
        self.output_chars += len(value) if isinstance(value, str) else len(str(value))
        if self.output_chars > MAX_OUTPUT_CHARS:
            raise SecurityError(f"the template writes more than {MAX_OUTPUT_CHARS:,} characters")
        return value

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if (
                    isinstance(times, int)
                    and isinstance(sequence, str | list | tuple)
                    and len(sequence) * times > MAX_OUTPUT_CHARS
                ):
                    raise SecurityError(f"`*` would make a value of more than {MAX_OUTPUT_CHARS:,} items")
        elif (
            isinstance(left, int)
            and isinstance(right, int)
            and abs(left) > 1
            and left.bit_length() * right > _MAX_POWER_BITS
        ):
            raise SecurityError("`**` would make a number too large to write")
        return super().call_binop(context, operator, left, right)


def sandbox() -> SandboxedEnvironment:
    """A fresh sandboxed environment with a fresh budget (cheap to make; never shared between
    renders, let alone tenants' templates)."""
    return _Sandbox()


def default_template_path(kind: str, locale: str) -> Path:
    return DEFAULTS_DIR / f"{kind}.{locale}.docx"


def compile_shipped(samples: Iterable[tuple[bytes, dict[str, Any]]]) -> int:
    """Render each shipped (template, sample data) once, keeping the compiled code of every part
    (Jinja compiling is ~40% of a render); returns how many parts are kept. For the render server,
    before it forks: only our own templates go through here."""
    global _recording
    _recording = True
    try:
        for template, data in samples:
            with contextlib.suppress(TemplateBroken):
                render_docx(template, data)
    finally:
        _recording = False
    return len(_SHIPPED_CODE)


def _with_images(doc: DocxTemplate, context: dict[str, Any], images: dict[str, bytes]) -> dict[str, Any]:
    """``context`` with an ``InlineImage`` at each path of ``images`` (paths of ``IMAGE_SIZES`` only;
    the blocks on the way are copied, the caller's data is left alone)."""
    out = dict(context)
    for path, blob in images.items():
        width, height = IMAGE_SIZES[path]
        *blocks, name = path.split(".")
        target = out
        for block in blocks:
            target[block] = dict(target.get(block) or {})
            target = target[block]
        target[name] = InlineImage(doc, io.BytesIO(blob), width=width, height=height)
    return out


def render_docx(template: bytes, context: dict[str, Any], images: dict[str, bytes] | None = None) -> bytes:
    """Render ``template`` (DOCX bytes) with ``context`` and ``images`` (see the module docstring);
    returns the DOCX bytes.

    Raises ``TemplateBroken`` for anything the template causes: Jinja errors, sandbox violations and
    budgets, missing values, a damaged file. ``MemoryError`` passes through (the child process turns
    it into "exceeded N MB"). CPU-bound (~30 ms for a 30-line contract) and otherwise unbounded."""
    try:
        doc = DocxTemplate(io.BytesIO(template))
        doc.render(_with_images(doc, context, images or {}), jinja_env=sandbox(), autoescape=True)
        out = io.BytesIO()
        doc.save(out)
    except MemoryError:
        raise
    except TemplateError as exc:
        lineno = getattr(exc, "lineno", None)
        where = f" (line {lineno})" if lineno else ""
        raise TemplateBroken(f"{type(exc).__name__}: {exc.message or exc}{where}") from exc
    except (ArithmeticError, TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise TemplateBroken(f"{type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # a damaged package (bad zip, broken XML) also lands here
        raise TemplateBroken(f"the template could not be rendered: {type(exc).__name__}: {exc}") from exc
    return out.getvalue()
