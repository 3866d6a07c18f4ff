"""Refuse the NUL character (U+0000) in request text before any handler runs.

PostgreSQL ``text`` and ``jsonb`` cannot hold NUL: left to the database it is an error in the middle
of a service (a 500). So one ``before_request`` hook answers 422 naming the field, like every other
invalid field, for path and query parameters, JSON bodies (``\\u0000`` in a string or a key) and
form fields. Files in a multipart body may hold NUL bytes (a ``.docx`` does): only their names and
the text fields are checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
from litestar import Request
from litestar.datastructures import UploadFile

from app.errors import ValidationFailed
from app.i18n import N_

NUL = "\x00"
MESSAGE = N_("Text cannot contain the NUL character")


def nul_fields(value: Any, path: str = "") -> Iterator[str]:
    """The paths (``items[1].name``, like other 422s) of the strings or keys in ``value`` holding NUL."""
    if isinstance(value, str):
        if NUL in value:
            yield path or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                yield name
            else:
                yield from nul_fields(item, name)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from nul_fields(item, f"{path}[{n}]")


def _refuse(fields: Iterator[str]) -> None:
    found = list(dict.fromkeys(fields))
    if found:
        raise ValidationFailed(
            extra={"errors": [{"field": field, "message": MESSAGE, "params": {}} for field in found]}
        )


async def refuse_nul(request: Request[Any, Any, Any]) -> None:
    """Litestar ``before_request`` hook: 422 when a parameter or body text holds NUL, else nothing.
    A body that is not valid JSON is left to the handler's decoding (400 malformed-body)."""
    _refuse(name for name, value in request.path_params.items() if isinstance(value, str) and NUL in value)
    _refuse(name for name, value in request.query_params.multi_items() if NUL in name or NUL in value)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    media_type, _ = request.content_type
    if media_type == "application/json" or media_type.endswith("+json"):
        body = await request.body()
        if b"\\u0000" not in body:
            return
        try:
            decoded = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return
        _refuse(nul_fields(decoded))
    elif media_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        _refuse(name for name, value in form.multi_items() if NUL in name or NUL in _form_text(value))


def _form_text(value: Any) -> str:
    """The text of a form field: its value, or for a file its name (a file's bytes may hold NUL)."""
    return (value.filename or "") if isinstance(value, UploadFile) else str(value)
