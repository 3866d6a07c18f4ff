"""What the OpenAPI document says beyond Litestar's defaults, so that it tells the truth.

- Every operation declares the problem+json answers it can give, derived from its handler once
  when the app is built (:func:`declare_problems`): 401/403 where the session dependency makes a
  session required, 402 where a read-only (billing) tenant's write is refused, 404 for ids (in the
  path, the query or the body), 409 for a signed-in write, 400/422 where a body or parameters are
  parsed, 429 where a rate-limit bucket counts it (and on the routes an API key may call), and what a
  route adds with ``opt={"problems": [...]}``.
- A body is required only when the handler has no default for it (:class:`OptionalBodyOperation`).
- A file download says which media types it answers (:func:`file_operation`, at the route).
- A msgspec struct with ``forbid_unknown_fields`` says ``additionalProperties: false``
  (:class:`StrictStructSchemaPlugin`).

Sharp edge: :func:`declare_problems` must run before the document is first generated (it is
generated once, on first use, and cached).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Litestar
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.routes import HTTPRoute
from litestar.types import Method as HttpMethodName
from litestar.typing import FieldDefinition

from app import rate_limits
from app.errors import PROBLEM_JSON, Problem

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator

_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class OptionalBodyOperation(Operation):
    """An operation whose body may be left out (Litestar marks every request body required)."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, RequestBody):
            self.request_body.required = False


def file_operation(*media_types: str) -> type[Operation]:
    """An ``operation_class`` for a handler that answers a file in one of ``media_types`` (Litestar
    documents the success answer of a ``Response[Any]`` as JSON)."""

    @dataclass
    class FileOperation(Operation):
        def __post_init__(self) -> None:
            for status, response in (self.responses or {}).items():
                if status.startswith("2") and isinstance(response, OpenAPIResponse):
                    binary = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
                    response.content = {m: OpenAPIMediaType(schema=binary) for m in media_types}

    return FileOperation


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """Litestar's msgspec struct schemas, with ``additionalProperties: false`` for the structs that
    refuse unknown fields (msgspec answers 422 for them)."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        if field_definition.type_.__struct_config__.forbid_unknown_fields:
            schema.additional_properties = False
        return schema


def _problem(status: int) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        generate_examples=False,
        description=HTTPStatus(status).phrase,
        media_type=PROBLEM_JSON,
    )


def _names_ids(field: FieldDefinition | None) -> bool:
    """Whether a body type has a field named like an id (``customer_id``, ``owner_ids``), at any depth:
    a service looking such an id up may answer 404."""
    seen: set[type] = set()

    def walk(info: msgspec.inspect.Type) -> bool:
        if isinstance(info, msgspec.inspect.Metadata):
            return walk(info.type)
        if isinstance(info, msgspec.inspect.ListType | msgspec.inspect.SetType):
            return walk(info.item_type)
        if isinstance(info, msgspec.inspect.UnionType):
            return any(walk(t) for t in info.types)
        if isinstance(info, msgspec.inspect.StructType) and info.cls not in seen:
            seen.add(info.cls)
            return any(f.name.endswith(("_id", "_ids")) or walk(f.type) for f in info.fields)
        return False

    if field is None:
        return False
    try:
        return walk(msgspec.inspect.type_info(field.annotation))
    except TypeError:  # not a type msgspec knows
        return False


@dataclass(frozen=True)
class ProblemRules:
    """What the app knows about its routes: the dependency that makes a session required, and which
    writes a read-only (billing) tenant is refused; the ``opt`` entry of routes an API key may call
    (those count the key's requests, so may answer 429)."""

    session_dependency: str
    refused_when_read_only: Callable[[str, str], bool]
    key_scope_opt: str | None = None


def problems_of(route: HTTPRoute, method: HttpMethodName, rules: ProblemRules) -> set[int]:
    """The problem statuses the ``method`` handler of ``route`` can answer (see the module docstring)."""
    handler, kwargs_model = route.route_handler_map[method]
    body = handler.parsed_fn_signature.parameters.get("data")
    has_body = body is not None or kwargs_model.expected_form_data is not None
    params = bool(
        kwargs_model.expected_query_params
        or kwargs_model.expected_header_params
        or kwargs_model.expected_cookie_params
        or route.path_parameters
    )
    path = route.path_format
    statuses: set[int] = set(handler.opt.get("problems", ()))
    if has_body or params:
        statuses |= {400, 422}
    if rules.session_dependency in handler.resolve_dependencies():
        statuses |= {401, 403}
        if method in _WRITES:
            statuses.add(409)
            if rules.refused_when_read_only(method, path):
                statuses.add(402)
    id_params = any(p.field_alias.endswith(("_id", "_ids")) for p in kwargs_model.expected_query_params)
    if route.path_parameters or id_params or _names_ids(body):
        statuses.add(404)
    if rate_limits.counted(handler) or (rules.key_scope_opt and rules.key_scope_opt in handler.opt):
        statuses.add(429)
    return statuses


def declare_problems(app: Litestar, rules: ProblemRules) -> None:
    """Add the problem+json answers to every documented handler, and mark the optional bodies."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, (handler, _) in route.route_handler_map.items():
            if not handler.resolve_include_in_schema() or method in ("HEAD", "OPTIONS"):
                continue
            declared: dict[int, Any] = dict(handler.responses or {})
            for status in sorted(problems_of(route, method, rules)):
                declared.setdefault(status, _problem(status))
            handler.responses = declared
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is not None and (data.has_default or data.is_optional):
                handler.operation_class = OptionalBodyOperation
