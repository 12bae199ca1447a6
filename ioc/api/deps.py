"""FastAPI dependencies as ``Annotated`` aliases: the context, the caller, role gates."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ioc.api.auth import ACTING_ROLES, COOKIE_NAME, AuthError, Principal, Role, principal_from_token
from ioc.api.context import AppContext
from ioc.store.base import Store

bearer_scheme = HTTPBearer(auto_error=False, description="Token from POST /api/auth/login or `ioc token`")


def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


Ctx = Annotated[AppContext, Depends(get_context)]


def get_store(ctx: Ctx) -> Store:
    return ctx.store


StoreDep = Annotated[Store, Depends(get_store)]


def token_from(request: Request, bearer: HTTPAuthorizationCredentials | None) -> str | None:
    """Bearer header first, then the ``ioc_token`` cookie."""
    if bearer is not None and bearer.scheme.lower() == "bearer":
        return bearer.credentials
    return request.cookies.get(COOKIE_NAME)


def get_principal(
    request: Request,
    ctx: Ctx,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    token = token_from(request, bearer)
    if not token:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "not authenticated", headers={"WWW-Authenticate": "Bearer"}
        )
    try:
        return principal_from_token(ctx.store, ctx.sessions, ctx.secret, token, ctx.idle_seconds)
    except AuthError as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, str(exc), headers={"WWW-Authenticate": "Bearer"}
        ) from exc


CurrentUser = Annotated[Principal, Depends(get_principal)]


def require_admin(user: CurrentUser) -> Principal:
    if user.role is not Role.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admin role required")
    return user


AdminUser = Annotated[Principal, Depends(require_admin)]


def require_actor(user: CurrentUser) -> Principal:
    if user.role not in ACTING_ROLES:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {user.role.value!r} may not change alerts")
    return user


ActingUser = Annotated[Principal, Depends(require_actor)]
