"""Admin only: the running config and the users."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field, ValidationError

from ioc.api.auth import USERNAME_PATTERN, Role, generate_password, hash_password
from ioc.api.deps import Ctx, require_admin
from ioc.config.models import IocConfig
from ioc.store.base import UnknownUserError, UserExistsError

router = APIRouter(prefix="/api", tags=["admin"], dependencies=[Depends(require_admin)])


class UserOut(BaseModel):
    username: str
    role: Role
    created_at: datetime


class UserIn(BaseModel):
    username: str = Field(..., pattern=USERNAME_PATTERN)
    role: Role = Role.OPERATOR
    password: str | None = Field(None, min_length=8, max_length=256, description="Default: generated")


class UserCreated(UserOut):
    password: str | None = Field(None, description="The generated password (only when none was given)")


class ConfigSaved(BaseModel):
    path: str
    restart_required: bool = Field(description="True when camera workers run the old config until restart")


@router.get("/config")
def get_config(ctx: Ctx) -> dict[str, Any]:
    config = ctx.live.config
    if config is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this server runs without a cameras.yaml")
    return config.model_dump(mode="json")


@router.put("/config")
def put_config(body: dict[str, Any], ctx: Ctx) -> ConfigSaved:
    """Validate a full config (the JSON form of cameras.yaml), save it as YAML and serve it."""
    try:
        config = IocConfig.model_validate(body)
    except ValidationError as exc:
        errors = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, errors) from exc
    path = ctx.settings.config_path
    save_yaml(config, path)
    ctx.live.set_config(config)
    return ConfigSaved(path=str(path), restart_required=ctx.engine is not None)


def save_yaml(config: IocConfig, path: Path) -> None:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = None
    buf = io.StringIO()
    yaml.dump(config.model_dump(mode="json", exclude_defaults=True), buf)
    if path.exists():
        path.replace(path.with_name(path.name + ".bak"))
    path.write_text(buf.getvalue(), encoding="utf-8")


@router.get("/users")
def list_users(ctx: Ctx) -> list[UserOut]:
    return [
        UserOut(username=u.username, role=Role(u.role), created_at=u.created_at)
        for u in ctx.store.list_users()
    ]


@router.post("/users", status_code=status.HTTP_201_CREATED)
def add_user(body: UserIn, ctx: Ctx) -> UserCreated:
    password = body.password or generate_password()
    try:
        user = ctx.store.add_user(body.username, body.role.value, hash_password(password), datetime.now(UTC))
    except UserExistsError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return UserCreated(
        username=user.username,
        role=Role(user.role),
        created_at=user.created_at,
        password=None if body.password else password,
    )


@router.delete("/users/{username}", status_code=status.HTTP_204_NO_CONTENT)
def remove_user(username: str, ctx: Ctx) -> None:
    """The last admin cannot be removed: nobody could change users or the config afterwards."""
    admins = [u.username for u in ctx.store.list_users() if u.role == Role.ADMIN.value]
    if admins == [username]:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"user {username!r} is the last admin; add another admin first"
        )
    try:
        ctx.store.remove_user(username)
    except UnknownUserError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
