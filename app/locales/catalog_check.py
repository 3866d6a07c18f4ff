"""Find every user-facing message id in the code (problem titles/details, field messages,
``translate`` calls, ``_()`` in templates) — used by the i18n completeness test."""

from __future__ import annotations

import ast
import re
from pathlib import Path

_CALLS = {
    "NotFound",
    "Conflict",
    "Gone",
    "Forbidden",
    "NotAuthenticated",
    "PaymentRequired",
    "ValidationFailed",
    "BadRequest",
    "RateLimited",
    "AppError",
}
_TEMPLATE_MSG = re.compile(r"""_\(\s*"((?:[^"\\]|\\.)+)"|_\(\s*'((?:[^'\\]|\\.)+)'""")


def _str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def message_ids(roots: list[Path]) -> set[str]:
    found: set[str] = set()
    for root in roots:
        for path in root.rglob("*.py"):
            if "piccolo_migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    name = (
                        node.func.attr
                        if isinstance(node.func, ast.Attribute)
                        else getattr(node.func, "id", "")
                    )
                    if name in _CALLS and node.args:
                        found.add(_str(node.args[0]) or "")
                    elif name in ("field", "translate") and len(node.args) >= 2:
                        found.add(_str(node.args[1]) or "")
                    elif name == "N_" and node.args:
                        found.add(_str(node.args[0]) or "")
                    elif name == "problem" and len(node.args) >= 4:
                        found.add(_str(node.args[3]) or "")
                elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple):
                    targets = node.targets[0]
                    if isinstance(targets, ast.Tuple) and len(node.value.elts) == 3:
                        found.add(_str(node.value.elts[2]) or "")
                elif isinstance(node, ast.AnnAssign | ast.Assign):
                    target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
                    if isinstance(target, ast.Name) and target.id == "title":
                        found.add(_str(node.value) or "")
        for path in root.rglob("*"):
            if path.suffix in {".html", ".txt", ".subject"}:
                for match in _TEMPLATE_MSG.finditer(path.read_text(encoding="utf-8")):
                    found.add(match.group(1) or match.group(2))
    found.discard("")
    return found
