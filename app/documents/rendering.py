"""DOCX rendering with docxtpl inside a sandboxed Jinja environment.

Templates are tenant-supplied code: the environment is ``SandboxedEnvironment`` (no dunder
attributes, no unsafe calls), ``StrictUndefined`` (a missing value is an error, not a blank in a
contract) and autoescaped (a ``&`` or ``<`` in a customer's name cannot break the document's XML).
A template that cannot be rendered raises ``TemplateBroken`` with a human reason: the caller fails
the document for good (rendering the same template again gives the same error).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

DEFAULTS_DIR = Path(__file__).resolve().parents[2] / "doc_templates"


class TemplateBroken(Exception):
    """The template (not the infrastructure) is at fault; ``str(exc)`` says why, for humans."""


def sandbox() -> SandboxedEnvironment:
    """A fresh sandboxed environment (cheap to make; never shared between tenants' templates)."""
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=True, keep_trailing_newline=True)


def default_template_path(kind: str, locale: str) -> Path:
    return DEFAULTS_DIR / f"{kind}.{locale}.docx"


def render_docx(template: bytes, context: dict[str, Any]) -> bytes:
    """Render ``template`` (DOCX bytes) with ``context``; returns the DOCX bytes.

    Raises ``TemplateBroken`` for anything the template causes: Jinja errors, sandbox violations,
    missing values, a damaged file. CPU-bound (~30 ms for a 30-line contract): run it in a thread."""
    try:
        doc = DocxTemplate(io.BytesIO(template))
        doc.render(context, jinja_env=sandbox(), autoescape=True)
        out = io.BytesIO()
        doc.save(out)
    except TemplateError as exc:
        lineno = getattr(exc, "lineno", None)
        where = f" (line {lineno})" if lineno else ""
        raise TemplateBroken(f"{type(exc).__name__}: {exc.message or exc}{where}") from exc
    except (ArithmeticError, TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise TemplateBroken(f"{type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # a damaged package (bad zip, broken XML) also lands here
        raise TemplateBroken(f"the template could not be rendered: {type(exc).__name__}: {exc}") from exc
    return out.getvalue()
