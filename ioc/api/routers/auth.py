"""Login, logout and who-am-I.

Login is throttled per user name and per client address (``ioc.api.throttle``): a refused attempt
answers 429 with ``Retry-After``. A login opens a server-side session (``ioc.api.sessions``);
logout ends it, so the token stops working everywhere at once, not only in this browser. The
``ioc_token`` cookie is ``HttpOnly``, ``SameSite=Strict`` and ``Secure`` when the request came over
HTTPS (also through a trusted reverse proxy) or when ``IOC_COOKIE_SECURE=always``.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ioc.api.auth import COOKIE_NAME, AuthError, authenticate, issue_token, principal_from_token
from ioc.api.context import AppContext
from ioc.api.deps import Ctx, CurrentUser, bearer_scheme, token_from
from ioc.api.errors import NO_NUL, error_responses

router = APIRouter(prefix="/api", tags=["auth"])


class LoginRequest(BaseModel):
    username: str = Field(..., min_length=1, max_length=64, pattern=NO_NUL)
    password: str = Field(..., min_length=1, max_length=256)


class LoginResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    username: str
    role: str


class Me(BaseModel):
    username: str
    role: str


def cookie_secure(ctx: AppContext, request: Request) -> bool:
    mode = ctx.settings.cookie_secure
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


def _refuse_if_throttled(ctx: AppContext, username: str, address: str | None) -> None:
    wait, scope = ctx.throttle.wait_seconds(username, address)
    if wait > 0:
        seconds = max(1, round(wait + 0.499))
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many failed logins for this {scope}: try again in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )


@router.post("/auth/login", responses=error_responses(401, 422, 429))
async def login(body: LoginRequest, ctx: Ctx, request: Request, response: Response) -> LoginResponse:
    address = request.client.host if request.client else None
    _refuse_if_throttled(ctx, body.username, address)
    async with ctx.throttle.hash_slots:
        _refuse_if_throttled(ctx, body.username, address)  # failures recorded while this one waited
        try:
            user = await run_in_threadpool(authenticate, ctx.store, body.username, body.password)
        except AuthError as exc:
            ctx.throttle.failed(body.username, address)
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from exc
    ctx.throttle.succeeded(body.username, address)
    ttl = timedelta(minutes=ctx.settings.token_ttl_minutes)
    token = await run_in_threadpool(issue_token, ctx.secret, ctx.sessions, user, ttl)
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=int(ttl.total_seconds()),
        httponly=True,
        samesite="strict",
        path="/",
        secure=cookie_secure(ctx, request),
    )
    return LoginResponse(access_token=token, username=user.username, role=user.role)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(422))
def logout(
    ctx: Ctx,
    request: Request,
    response: Response,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> None:
    """End the caller's session (its token stops working at once) and clear the cookie; a missing
    or already invalid token is not an error."""
    token = token_from(request, bearer)
    if token:
        with contextlib.suppress(AuthError):
            user = principal_from_token(ctx.store, ctx.sessions, ctx.secret, token, ctx.idle_seconds)
            ctx.sessions.revoke(user.session_id)
    response.delete_cookie(
        COOKIE_NAME, path="/", httponly=True, samesite="strict", secure=cookie_secure(ctx, request)
    )


@router.get("/me", responses=error_responses(401))
def me(user: CurrentUser) -> Me:
    return Me(username=user.username, role=user.role.value)
