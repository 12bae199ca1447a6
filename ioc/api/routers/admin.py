"""Admin only: the running config and the users."""

from __future__ import annotations

import io
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field

from ioc.api.auth import USERNAME_PATTERN, Role, generate_password, hash_password
from ioc.api.deps import AdminUser, Ctx, require_admin
from ioc.api.errors import error_responses
from ioc.config.errors import ConfigError
from ioc.config.loader import parse_config, preset_search_dirs
from ioc.redact import redact_text
from ioc.store.base import UnknownUserError, UserExistsError

CONFIG_BODY_LABEL = "request body"
"""How config errors name the PUT body (lines count in its YAML form, as saved)."""

router = APIRouter(
    prefix="/api",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=error_responses(401, 403),
)

MAX_CONFIG_DEPTH = 16
"""Deepest nesting a config body may have (cameras.yaml needs 6: cameras → zones → polygon → point)."""


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
    changes: list[str] = Field(
        default_factory=list, description="What the running pipeline changed, one line each"
    )


@router.get("/config", responses=error_responses(404))
def get_config(ctx: Ctx) -> dict[str, Any]:
    config = ctx.live.config
    if config is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this server runs without a cameras.yaml")
    return config.model_dump(mode="json")


@router.put("/config", responses=error_responses(500))
def put_config(body: dict[str, Any], ctx: Ctx, user: AdminUser) -> ConfigSaved:
    """Validate a full config (cameras.yaml as JSON; ``defaults`` and ``preset`` work as in the
    file) with the loader ``ioc check`` uses, save it as YAML and serve it. A refused config, or
    one that cannot be saved, changes nothing. With a running pipeline the change is applied at
    once (hot reload: only what changed restarts) and logged with the admin's name. A body over
    ``IOC_MAX_BODY_BYTES`` is refused (413) before it is parsed; strings and lists have limits in
    the config models."""
    path = ctx.settings.config_path
    if nesting(body) > MAX_CONFIG_DEPTH:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"request body: nested deeper than {MAX_CONFIG_DEPTH} levels",
        )
    text = to_yaml(body)
    try:
        config = parse_config(text, CONFIG_BODY_LABEL, preset_dirs=preset_search_dirs(path))
    except ConfigError as exc:  # a line may quote a camera URL: its credentials stay hidden
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, [redact_text(e) for e in exc.errors]
        ) from exc
    try:
        if ctx.reloader is not None:
            outcome = ctx.reloader.submit(text, config, user.username, replace_file)
        else:
            replace_file(path, text)
    except OSError as exc:
        raise HTTPException(
            status.HTTP_500_INTERNAL_SERVER_ERROR, f"cannot save {path}: {exc.strerror or exc}"
        ) from exc
    if ctx.reloader is None:
        ctx.live.set_config(config)
        return ConfigSaved(path=str(path), restart_required=ctx.engine is not None)
    if not outcome.applied:
        raise HTTPException(
            status.HTTP_500_INTERNAL_SERVER_ERROR,
            f"saved {path}, but applying it failed (the running config stays): {'; '.join(outcome.errors)}",
        )
    return ConfigSaved(path=str(path), restart_required=False, changes=list(outcome.changes))


def nesting(value: object) -> int:
    """How deeply lists and objects nest in ``value`` (a scalar: 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth + 1)
            if depth + 1 <= MAX_CONFIG_DEPTH:
                stack.extend((child, depth + 1) for child in children)
    return deepest


def to_yaml(body: dict[str, Any]) -> str:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = None
    buf = io.StringIO()
    yaml.dump(body, buf)
    return buf.getvalue()


def replace_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, keeping the previous file (and its mode) as ``.bak``."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        if path.exists():
            shutil.copymode(path, tmp)
            shutil.copy2(path, path.with_name(path.name + ".bak"))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@router.get("/users")
def list_users(ctx: Ctx) -> list[UserOut]:
    return [
        UserOut(username=u.username, role=Role(u.role), created_at=u.created_at)
        for u in ctx.store.list_users()
    ]


@router.post("/users", status_code=status.HTTP_201_CREATED, responses=error_responses(409))
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


@router.delete("/users/{username}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(409))
def remove_user(username: str, ctx: Ctx) -> None:
    """The last admin cannot be removed: nobody could change users or the config afterwards.
    The user's sessions end at once (open websockets close with 4401)."""
    admins = [u.username for u in ctx.store.list_users() if u.role == Role.ADMIN.value]
    if admins == [username]:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"user {username!r} is the last admin; add another admin first"
        )
    try:
        ctx.store.remove_user(username)
    except UnknownUserError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    finally:
        ctx.sessions.revoke_user(username)
