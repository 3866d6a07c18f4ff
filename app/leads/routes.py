"""HTTP routes for inbound leads: the intake (``POST /api/v1/leads``, with an API key holding
``leads:write``) and the inquiry forms (owners and admins). Thin: parse, call one service, return.
The public form pages are ``app.web.inquiry``."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from app.errors import Forbidden
from app.leads import forms, intake
from app.leads.schemas import IntakeRead, LeadFormRead, LeadFormWrite, LeadsBody
from tenants.key_scopes import needs
from tenants.scope import SCOPED, TenantScope


class LeadController(Controller):
    path = "/api/v1/leads"
    tags = ("leads",)
    dependencies = SCOPED

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Send one lead or a list of up to 100 (API key with leads:write); new companies land in"
        " the pool, known ones go to their owner. Idempotency-Key: the same key and leads answer the"
        " same, without taking them twice",
        opt=needs("leads:write"),
    )
    async def take_leads(
        self,
        tenant_scope: NamedDependency[TenantScope],
        data: JSONBody[LeadsBody],
        idempotency_key: Annotated[
            str | None, HeaderParameter(name="Idempotency-Key", min_length=1, max_length=200)
        ] = None,
    ) -> IntakeRead:
        if tenant_scope.api_key_id is None:
            raise Forbidden("Leads are sent with an API key holding leads:write")
        source = intake.Source("api", api_key_id=tenant_scope.api_key_id)
        return await intake.take_leads(tenant_scope, data, source, idempotency_key=idempotency_key)


class LeadFormController(Controller):
    path = "/api/v1/lead-forms"
    tags = ("leads",)
    dependencies = SCOPED

    @get("/", summary="The company's inquiry forms (owner/admin)")
    async def list_forms(self, tenant_scope: NamedDependency[TenantScope]) -> list[LeadFormRead]:
        return await forms.list_forms(tenant_scope)

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Define an inquiry form (owner/admin); 409 if its slug is taken",
    )
    async def create_form(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[LeadFormWrite]
    ) -> LeadFormRead:
        return await forms.create_form(tenant_scope, data)

    @get("/{form_id:uuid}", summary="One inquiry form (owner/admin)")
    async def get_form(
        self, tenant_scope: NamedDependency[TenantScope], form_id: FromPath[UUID]
    ) -> LeadFormRead:
        return await forms.get_form(tenant_scope, form_id)

    @put("/{form_id:uuid}", summary="Change an inquiry form (owner/admin); active=false takes it offline")
    async def update_form(
        self,
        tenant_scope: NamedDependency[TenantScope],
        form_id: FromPath[UUID],
        data: JSONBody[LeadFormWrite],
    ) -> LeadFormRead:
        return await forms.update_form(tenant_scope, form_id, data)


ROUTES = [LeadController, LeadFormController]
