"""Cameras: configuration with live status, and the latest annotated frame."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response, status

from ioc.api.auth import Principal, can_see_category, sees_cameras
from ioc.api.context import AppContext
from ioc.api.deps import Ctx, CurrentUser
from ioc.api.errors import error_responses
from ioc.cluster.frames import FramesUnavailableError
from ioc.config.models import CameraConfig
from ioc.ingest.sources import redact_source
from ioc.messages import CameraStatus

router = APIRouter(prefix="/api/cameras", tags=["cameras"], responses=error_responses(401))


def _view(camera: CameraConfig, camera_status: CameraStatus | None) -> dict[str, Any]:
    """The camera for every role: the source's password is ``***`` (RTSP URLs often carry
    credentials); admins read the full source from ``GET /api/config``."""
    body = camera.model_dump(mode="json")
    body["source"] = redact_source(str(body["source"]))
    body["status"] = camera_status.model_dump(mode="json") if camera_status else None
    return body


def _visible_camera(ctx: AppContext, user: Principal, camera_id: str) -> CameraConfig:
    config = ctx.live.config
    camera = next((c for c in config.cameras if c.id == camera_id), None) if config else None
    if camera is None or not sees_cameras(user.role):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown camera {camera_id!r}")
    if not can_see_category(user.role, camera.alert_category):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown camera {camera_id!r}")
    return camera


@router.get("")
def list_cameras(ctx: Ctx, user: CurrentUser) -> list[dict[str, Any]]:
    """Every camera the caller's role may see, with ``status`` (CameraStatus or null)."""
    config = ctx.live.config
    if config is None:
        return []
    statuses = ctx.camera_statuses()
    return [
        _view(cam, statuses.get(cam.id))
        for cam in config.cameras
        if sees_cameras(user.role) and can_see_category(user.role, cam.alert_category)
    ]


@router.get("/{camera_id}")
def get_camera(camera_id: str, ctx: Ctx, user: CurrentUser) -> dict[str, Any]:
    camera = _visible_camera(ctx, user, camera_id)
    return _view(camera, ctx.camera_statuses().get(camera_id))


@router.get(
    "/{camera_id}/frame.jpg",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}},
        404: {"description": "no frame yet (or none fresh: the camera is not running)"},
        503: {**error_responses(503)[503], "description": "Live pictures unavailable: Redis does not answer"},
    },
)
def camera_frame(camera_id: str, ctx: Ctx, user: CurrentUser) -> Response:
    """The camera's latest processed frame, annotated: from the engine in this process, or on an
    API node of a cluster from the picture its worker published to Redis (503 when Redis does not
    answer)."""
    _visible_camera(ctx, user, camera_id)
    try:
        jpeg = ctx.frames.latest_frame_jpeg(camera_id) if ctx.frames is not None else None
    except FramesUnavailableError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    if jpeg is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no frame from camera {camera_id!r} yet")
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})
