"""HTTP routes for signup, sessions, password reset, members, invitations and the company profile.
Thin: parse, call one service, return."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import Cookie, UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from app import i18n, rate_limits
from app.accounts import password_reset
from app.accounts import service as accounts
from app.errors import NotAuthenticated
from app.pagination import PAGED, Page, PageParams
from app.settings import get_settings
from app.storage import Storage
from tenants import api_keys, invitations, login, members, profile, sessions, signup
from tenants.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    CompanyProfileRead,
    CompanyProfileWrite,
    InvitationAccept,
    InvitationCreate,
    InvitationRead,
    LoginCreate,
    LoginRead,
    MemberRead,
    MemberUpdate,
    MeRead,
    PasswordResetConfirm,
    PasswordResetCreate,
    PasswordResetDone,
    PasswordResetRequested,
    SessionRead,
    SignupCreate,
)
from tenants.scope import CSRF_COOKIE, SCOPED, SESSION_COOKIE, TenantScope, _token


def _client(request: Request[Any, Any, Any]) -> tuple[str | None, str | None]:
    return (request.client.host if request.client else None), request.headers.get("user-agent")


def _with_cookies(body: Any, session: SessionRead | None, status: int) -> Response[Any]:
    cookies: list[Cookie] = []
    if session is not None:
        secure = get_settings().cookie_secure
        max_age = get_settings().session_ttl_hours * 3600
        cookies = [
            Cookie(
                key=SESSION_COOKIE,
                value=session.token,
                httponly=True,
                samesite="lax",
                secure=secure,
                max_age=max_age,
                path="/",
            ),
            Cookie(
                key=CSRF_COOKIE,
                value=session.csrf_token,
                httponly=False,
                samesite="lax",
                secure=secure,
                max_age=max_age,
                path="/",
            ),
        ]
    return Response(body, status_code=status, cookies=cookies)


class AuthController(Controller):
    path = "/api/v1"
    tags = ["accounts"]

    @post(
        "/signup",
        status_code=HTTP_201_CREATED,
        summary="Create a company and its owner",
        opt={"problems": [409]},
        middleware=[rate_limits.bucket("signup")],
    )
    async def signup(
        self, request: Request[Any, Any, Any], data: JSONBody[SignupCreate]
    ) -> Response[SessionRead]:
        session = await signup.signup(data, *_client(request))
        return _with_cookies(session, session, HTTP_201_CREATED)

    @post(
        "/auth/login",
        status_code=HTTP_200_OK,
        summary="Sign in (bearer token and cookie)",
        opt={"problems": [401]},
        middleware=[rate_limits.bucket("login")],
    )
    async def login(
        self, request: Request[Any, Any, Any], data: JSONBody[LoginCreate]
    ) -> Response[LoginRead]:
        result = await login.login(data, *_client(request))
        return _with_cookies(result, result.session, HTTP_200_OK)

    @post("/auth/logout", status_code=HTTP_200_OK, dependencies=SCOPED, summary="End this session")
    async def logout(
        self, request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
    ) -> Response[dict[str, bool]]:
        token, _ = _token(request)
        if token is None:
            raise NotAuthenticated()
        await sessions.logout(token)
        response: Response[dict[str, bool]] = Response({"ok": True})
        response.delete_cookie(SESSION_COOKIE)
        response.delete_cookie(CSRF_COOKIE)
        return response

    @post(
        "/auth/password-reset",
        status_code=HTTP_202_ACCEPTED,
        summary="Mail a link to set a new password",
        middleware=[rate_limits.bucket("password_reset")],
    )
    async def request_password_reset(
        self, request: Request[Any, Any, Any], data: JSONBody[PasswordResetCreate]
    ) -> Response[PasswordResetRequested]:
        email = accounts.normalize_email(data.email)
        locale = data.locale or i18n.negotiate(request.headers.get("accept-language"))
        ip, _ = _client(request)
        # The same answer either way, and the work runs after it is sent: its timing tells nothing.
        return Response(
            PasswordResetRequested(detail=i18n.translate(locale, password_reset.REQUESTED)),
            status_code=HTTP_202_ACCEPTED,
            background=BackgroundTask(password_reset.request_reset, email, locale, ip),
        )

    @post(
        "/auth/password-reset/confirm",
        status_code=HTTP_200_OK,
        summary="Set a new password (mailed link)",
        opt={"problems": [404, 410]},
        middleware=[rate_limits.bucket("password_reset")],
    )
    async def confirm_password_reset(self, data: JSONBody[PasswordResetConfirm]) -> PasswordResetDone:
        return PasswordResetDone(email=await password_reset.reset_password(data.token, data.password))

    @get("/me", dependencies=SCOPED, summary="The signed-in member")
    async def me(self, tenant_scope: NamedDependency[TenantScope]) -> MeRead:
        return sessions.me(tenant_scope)

    @post(
        "/invitations/{token:str}/accept",
        status_code=HTTP_201_CREATED,
        summary="Accept an invitation",
        opt={"problems": [401, 409, 410]},
        middleware=[rate_limits.bucket("invitation")],
    )
    async def accept(
        self, request: Request[Any, Any, Any], token: FromPath[str], data: JSONBody[InvitationAccept]
    ) -> Response[SessionRead]:
        session = await invitations.accept_invitation(token, data, *_client(request))
        return _with_cookies(session, session, HTTP_201_CREATED)


class MemberController(Controller):
    path = "/api/v1/members"
    tags = ["members"]
    dependencies = SCOPED

    @get("/", dependencies=PAGED)
    async def list_members(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        role: FromQuery[str | None] = None,
        active: FromQuery[bool | None] = None,
    ) -> Page[MemberRead]:
        return await members.list_members(
            tenant_scope, limit=page.limit, cursor=page.cursor, role=role, active=active
        )

    @get("/{member_id:uuid}")
    async def get_member(
        self, tenant_scope: NamedDependency[TenantScope], member_id: FromPath[UUID]
    ) -> MemberRead:
        return await members.get_member(tenant_scope, member_id)

    @patch("/{member_id:uuid}")
    async def update_member(
        self,
        tenant_scope: NamedDependency[TenantScope],
        member_id: FromPath[UUID],
        data: JSONBody[MemberUpdate],
    ) -> MemberRead:
        return await members.change_role(tenant_scope, member_id, data.role)

    @post("/{member_id:uuid}/deactivate", status_code=HTTP_200_OK)
    async def deactivate(
        self,
        tenant_scope: NamedDependency[TenantScope],
        member_id: FromPath[UUID],
        reason: str | None = Parameter(default=None, max_length=500),
    ) -> MemberRead:
        return await members.deactivate_member(tenant_scope, member_id, reason)

    @post("/{member_id:uuid}/reactivate", status_code=HTTP_200_OK)
    async def reactivate(
        self, tenant_scope: NamedDependency[TenantScope], member_id: FromPath[UUID]
    ) -> MemberRead:
        return await members.reactivate_member(tenant_scope, member_id)


class InvitationController(Controller):
    path = "/api/v1/invitations"
    tags = ["members"]
    dependencies = SCOPED

    @post("/", status_code=HTTP_201_CREATED)
    async def invite(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[InvitationCreate]
    ) -> InvitationRead:
        return await invitations.invite(tenant_scope, data)

    @get("/", dependencies=PAGED)
    async def list_invitations(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
    ) -> Page[InvitationRead]:
        return await invitations.list_invitations(tenant_scope, limit=page.limit, cursor=page.cursor)

    @post("/{invitation_id:uuid}/revoke", status_code=HTTP_200_OK)
    async def revoke(
        self, tenant_scope: NamedDependency[TenantScope], invitation_id: FromPath[UUID]
    ) -> InvitationRead:
        return await invitations.revoke_invitation(tenant_scope, invitation_id)


@dataclass
class ProfileImageUpload:
    file: UploadFile


_IMAGE_BODY = Body(media_type=RequestEncodingType.MULTI_PART)


def _storage(request: Request[Any, Any, Any]) -> Storage:
    store: Storage = request.app.state.storage
    return store


class CompanyProfileController(Controller):
    path = "/api/v1/company-profile"
    tags = ["company profile"]
    dependencies = SCOPED

    @get("/", summary="The company profile (Party B of every document), newest version")
    async def get_profile(
        self, tenant_scope: NamedDependency[TenantScope], request: Request[Any, Any, Any]
    ) -> CompanyProfileRead:
        return await profile.get_profile(tenant_scope, _storage(request))

    @put("/", summary="Save the company profile (a new version); 422 names each wrong field")
    async def save_profile(
        self,
        tenant_scope: NamedDependency[TenantScope],
        request: Request[Any, Any, Any],
        data: JSONBody[CompanyProfileWrite],
    ) -> CompanyProfileRead:
        return await profile.save_profile(tenant_scope, _storage(request), data)

    @put("/logo", summary="Set the logo (multipart: file; PNG or JPEG): a new version")
    async def put_logo(
        self,
        tenant_scope: NamedDependency[TenantScope],
        request: Request[Any, Any, Any],
        data: Annotated[ProfileImageUpload, _IMAGE_BODY],
    ) -> CompanyProfileRead:
        content = await data.file.read(profile.MAX_IMAGE_BYTES + 1)
        return await profile.put_image(tenant_scope, _storage(request), "logo", content)

    @delete("/logo", status_code=HTTP_200_OK, summary="Remove the logo: a new version")
    async def delete_logo(
        self, tenant_scope: NamedDependency[TenantScope], request: Request[Any, Any, Any]
    ) -> CompanyProfileRead:
        return await profile.remove_image(tenant_scope, _storage(request), "logo")

    @put("/seal", summary="Set the company seal image (multipart: file; PNG or JPEG): a new version")
    async def put_seal(
        self,
        tenant_scope: NamedDependency[TenantScope],
        request: Request[Any, Any, Any],
        data: Annotated[ProfileImageUpload, _IMAGE_BODY],
    ) -> CompanyProfileRead:
        content = await data.file.read(profile.MAX_IMAGE_BYTES + 1)
        return await profile.put_image(tenant_scope, _storage(request), "seal", content)

    @delete("/seal", status_code=HTTP_200_OK, summary="Remove the company seal image: a new version")
    async def delete_seal(
        self, tenant_scope: NamedDependency[TenantScope], request: Request[Any, Any, Any]
    ) -> CompanyProfileRead:
        return await profile.remove_image(tenant_scope, _storage(request), "seal")


class ApiKeyController(Controller):
    """Owners and admins manage the keys; a key itself can use none of these routes."""

    path = "/api/v1/api-keys"
    tags = ["api keys"]
    dependencies = SCOPED

    @post("/", status_code=HTTP_201_CREATED, summary="Create an API key; its secret is answered this once")
    async def create_key(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[ApiKeyCreate]
    ) -> ApiKeyCreated:
        return await api_keys.create_key(tenant_scope, data)

    @get("/", summary="The company's API keys with their last use (never their secrets)")
    async def list_keys(self, tenant_scope: NamedDependency[TenantScope]) -> list[ApiKeyRead]:
        return await api_keys.list_keys(tenant_scope)

    @delete("/{key_id:uuid}", status_code=HTTP_200_OK, summary="Revoke an API key (its next request is 401)")
    async def revoke_key(
        self, tenant_scope: NamedDependency[TenantScope], key_id: FromPath[UUID]
    ) -> ApiKeyRead:
        return await api_keys.revoke_key(tenant_scope, key_id)


ROUTES = [AuthController, MemberController, InvitationController, CompanyProfileController, ApiKeyController]
