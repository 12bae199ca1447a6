"""Login, logout and who-am-I."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ioc.api.auth import COOKIE_NAME, AuthError, authenticate, issue_token
from ioc.api.deps import Ctx, CurrentUser

router = APIRouter(prefix="/api", tags=["auth"])


class LoginRequest(BaseModel):
    username: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=1, max_length=256)


class LoginResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    username: str
    role: str


class Me(BaseModel):
    username: str
    role: str


@router.post("/auth/login")
async def login(body: LoginRequest, ctx: Ctx, response: Response) -> LoginResponse:
    try:
        user = await run_in_threadpool(authenticate, ctx.store, body.username, body.password)
    except AuthError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from exc
    ttl = timedelta(minutes=ctx.settings.token_ttl_minutes)
    token = issue_token(ctx.secret, user, ttl)
    response.set_cookie(
        COOKIE_NAME, token, max_age=int(ttl.total_seconds()), httponly=True, samesite="strict", path="/"
    )
    return LoginResponse(access_token=token, username=user.username, role=user.role)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(response: Response) -> None:
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")


@router.get("/me")
def me(user: CurrentUser) -> Me:
    return Me(username=user.username, role=user.role.value)
