"""Snapshot JPEGs written by the events stage: ``/snapshots/<camera>/<date>/<file>.jpg``.

Authenticated (Bearer or the ``ioc_token`` cookie, so ``<img>`` tags work) and limited by the
camera's category like the alerts that point at them.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse

from ioc.api.auth import can_see_category
from ioc.api.deps import Ctx, CurrentUser
from ioc.api.errors import error_responses

router = APIRouter(tags=["snapshots"])


def resolve_snapshot(root: Path, path: str) -> Path | None:
    """The file under ``root`` that ``path`` names, or None if it leaves ``root``, is missing or
    cannot name a file at all (a NUL byte, a name longer than the file system allows)."""
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts) or not path.endswith(".jpg") or "\x00" in path:
        return None
    try:
        base = root.resolve()
        target = (base / path).resolve()
        if not target.is_relative_to(base) or not target.is_file():
            return None
    except (OSError, ValueError):
        return None
    return target


@router.get(
    "/snapshots/{path:path}",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}, **error_responses(401, 404)},
)
def snapshot(path: str, ctx: Ctx, user: CurrentUser) -> FileResponse:
    camera_id = path.split("/", 1)[0]
    if not can_see_category(user.role, ctx.live.camera_category(camera_id)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such snapshot")
    target = resolve_snapshot(ctx.settings.snapshots_dir, path)
    if target is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such snapshot")
    return FileResponse(target, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})
