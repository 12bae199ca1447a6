"""Pydantic models for ``cameras.yaml``. Validated once into frozen values.

Coordinates are normalised 0..1 (x right, y down) so a camera can change resolution without
editing its rules. Loading (YAML line numbers, ``defaults:`` merge) lives in ``loader.py``.

Each rule type's model lives in its family module under ``ioc/rules/``; ``CameraConfig.rules``
validates against the registry's union (``ioc.rules.registry.RuleConfig``), and the cross-field
checks ask each rule for the zones and lines it names and for its own camera checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
from pydantic import Field, field_validator, model_validator

from ioc.config.rule_base import Id, NormPoint, RuleBase, Strict, check_classes
from ioc.geometry import homography, polygon_area, project, self_intersection, triangle_area
from ioc.messages import Category
from ioc.rules.intrusion import IntrusionRule  # re-exported: these three were defined here before
from ioc.rules.line_crossing import LineCrossingRule
from ioc.rules.loitering import LoiteringRule
from ioc.rules.registry import RuleConfig

__all__ = [
    "AlertConfig",
    "Calibration",
    "CameraConfig",
    "DetectConfig",
    "Id",
    "IntrusionRule",
    "IocConfig",
    "Line",
    "LineCrossingRule",
    "Location",
    "LoiteringRule",
    "NormPoint",
    "RetentionConfig",
    "RuleBase",
    "RuleConfig",
    "SiteConfig",
    "Strict",
    "TrackConfig",
    "Zone",
]


class Location(Strict):
    lat: float = Field(..., ge=-90, le=90, description="Latitude, WGS84 degrees")
    lon: float = Field(..., ge=-180, le=180, description="Longitude, WGS84 degrees")


class DetectConfig(Strict):
    model: str = Field("yolov8s-world", description="Model name from models/models.yaml, or a path")
    fps: float = Field(5.0, gt=0, le=60, description="Frames per second sent to the detector")
    imgsz: int = Field(320, ge=64, le=1920, description="Detector input size in pixels (longest side)")
    confidence: float = Field(0.35, ge=0.01, le=1.0, description="Minimum detection confidence")
    iou: float = Field(0.5, gt=0, le=1.0, description="NMS IoU threshold")
    classes: tuple[str, ...] = Field(
        ("person", "bicycle", "car", "motorcycle", "bus", "truck"),
        min_length=1,
        max_length=80,
        description="COCO class names to detect",
    )
    recheck_seconds: float = Field(
        5.0, gt=0, description="A full-frame detector pass at least this often, even when nothing moves"
    )
    regions: bool = Field(
        True,
        description="Detect on full-resolution crops around motion and tracked objects (false: whole frames)",
    )
    max_regions: int = Field(
        2, ge=1, le=16, description="More regions than this in one frame: one full-frame pass instead"
    )
    candidate_confidence: float = Field(
        0.1,
        ge=0.01,
        le=1.0,
        description="Whole-frame boxes between this and `confidence` are looked at again in a crop",
    )
    stationary_seconds: float = Field(
        3.0, gt=0, le=600, description="A track that has not moved this long is stationary"
    )
    stationary_recheck_seconds: float = Field(
        5.0, gt=0, le=600, description="How often a stationary object is looked at again (a crop around it)"
    )

    _classes = field_validator("classes")(check_classes)


class TrackConfig(Strict):
    lost_track_seconds: float = Field(
        1.5, gt=0, le=60, description="How long a lost track is kept before its id is retired"
    )
    match_threshold: float = Field(0.8, gt=0, le=1, description="ByteTrack association threshold")


class AlertConfig(Strict):
    cooldown_seconds: float = Field(
        10.0,
        ge=0,
        description="After an alert on (rule, object) ends, a new one for the pair waits at least this long",
    )
    end_after_seconds: float = Field(
        2.0, gt=0, description="A state alert ends when its condition has not held for this long"
    )
    update_interval_seconds: float = Field(
        5.0, gt=0, description="At most one update message per alert this often"
    )


class Zone(Strict):
    id: Id
    name: str | None = Field(None, description="Display name")
    polygon: tuple[NormPoint, ...] = Field(
        ..., max_length=1000, description="Normalised [[x, y], ...], at least 3 points"
    )

    @field_validator("polygon")
    @classmethod
    def _simple_polygon(cls, v: tuple[NormPoint, ...]) -> tuple[NormPoint, ...]:
        if len(v) < 3:
            raise ValueError(f"polygon needs at least 3 points, got {len(v)}")
        repeated = next((i for i in range(len(v)) if v[i] == v[(i + 1) % len(v)]), None)
        if repeated is not None:
            raise ValueError(f"polygon repeats point {repeated} {list(v[repeated])}")
        hit = self_intersection(v)
        if hit is not None:
            raise ValueError(f"polygon self-intersects (edges {hit[0]} and {hit[1]} cross)")
        if polygon_area(v) < 1e-6:
            raise ValueError("polygon has no area (all points on one line)")
        return v


class Line(Strict):
    id: Id
    name: str | None = Field(None, description="Display name")
    points: tuple[NormPoint, NormPoint] = Field(..., description="Normalised [[x1, y1], [x2, y2]]")

    @field_validator("points")
    @classmethod
    def _distinct(cls, v: tuple[NormPoint, NormPoint]) -> tuple[NormPoint, NormPoint]:
        if v[0] == v[1]:
            raise ValueError("line points must differ")
        return v


WorldCoord = Annotated[float, Field(ge=-100_000, le=100_000)]
WorldPoint = tuple[WorldCoord, WorldCoord]
_MIN_IMAGE_AREA = 1e-5  # normalised units²: three image points closer to one line are degenerate
_MIN_WORLD_AREA = 1e-2  # m²


class Calibration(Strict):
    """A ground-plane homography: four points on the road in the image and where they are, in metres.

    Refused when degenerate: three points of either set on one line, either quadrilateral crossing
    itself (the two lists are not in the same order around the area), or the map sending part of
    the area through the horizon.
    """

    image_points: tuple[NormPoint, ...] = Field(
        ..., description="Four normalised [x, y] points on the road surface"
    )
    world_points: tuple[WorldPoint, ...] = Field(
        ..., description="The same four points on the ground, in metres, same order"
    )

    @field_validator("image_points", "world_points")
    @classmethod
    def _four(cls, v: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
        if len(v) != 4:
            raise ValueError(f"expected exactly 4 points, got {len(v)}")
        return v

    @model_validator(mode="after")
    def _not_degenerate(self) -> Self:
        for name, points, least in (
            ("image_points", self.image_points, _MIN_IMAGE_AREA),
            ("world_points", self.world_points, _MIN_WORLD_AREA),
        ):
            problem = _quad_problem(points, least)
            if problem is not None:
                raise ValueError(f"{name}: degenerate calibration: {problem}")
        _, w = project(self.matrix(), self.image_points)
        if not (all(w > 0) or all(w < 0)):
            raise ValueError("degenerate calibration: the map folds the area through the horizon")
        return self

    def matrix(self) -> npt.NDArray[np.float64]:
        """Image (normalised) → ground (metres) homography."""
        return homography(self.image_points, self.world_points)


def _quad_problem(points: Sequence[tuple[float, float]], least_area: float) -> str | None:
    for i, j, k in ((0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)):
        if triangle_area(points[i], points[j], points[k]) < least_area:
            return f"points {i}, {j}, {k} lie on one line"
    if self_intersection(points) is not None:
        return "the four points cross over (list them in order around the area, in both lists)"
    return None


class CameraConfig(Strict):
    id: Id
    name: str | None = Field(None, description="Display name")
    source: str = Field(..., min_length=1, description="rtsp://…, http(s):// MJPEG, or a video file path")
    enabled: bool = Field(True, description="Skip this camera without deleting it")
    worker: str | None = Field(
        None, min_length=1, description="Cluster: run only on the `ioc worker` with this IOC_NODE_NAME"
    )
    category: Literal["traffic", "security"] = Field("security", description="Alert category")
    location: Location | None = Field(None, description="Where the camera stands, for the map")
    loop: bool = Field(True, description="File sources: start again at the end")
    detect: DetectConfig = Field(default_factory=DetectConfig)
    track: TrackConfig = Field(default_factory=TrackConfig)
    alerts: AlertConfig = Field(default_factory=AlertConfig)
    calibration: Calibration | None = Field(
        None, description="Ground-plane homography for speeds in km/h (needed by speeding)"
    )
    masks: tuple[Zone, ...] = Field(
        (), max_length=256, description="Polygons whose detections (by anchor) are ignored everywhere"
    )
    zones: tuple[Zone, ...] = Field((), max_length=256)
    lines: tuple[Line, ...] = Field((), max_length=256)
    rules: tuple[RuleConfig, ...] = Field((), max_length=256)

    @field_validator("source")
    @classmethod
    def _known_scheme(cls, v: str) -> str:
        if "://" in v and not v.startswith(("rtsp://", "rtsps://", "http://", "https://", "file://")):
            raise ValueError(
                f"unsupported source scheme in {v!r}: expected rtsp://, http(s):// or a file path"
            )
        return v

    @model_validator(mode="after")
    def _references(self) -> Self:
        """Cross-field checks; every problem is reported at once (one per line of the error)."""
        problems = [
            *_duplicates("zones", [z.id for z in self.zones]),
            *_duplicates("lines", [ln.id for ln in self.lines]),
            *_duplicates("masks", [m.id for m in self.masks]),
            *_duplicates("rules", [r.id for r in self.rules]),
        ]
        for i, rule in enumerate(self.rules):
            problems.extend(self._rule_problems(i, rule))
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _rule_problems(self, i: int, rule: RuleBase) -> list[str]:
        known = {"zone": sorted(z.id for z in self.zones), "line": sorted(ln.id for ln in self.lines)}
        out = []
        for kind, ref in rule.references():
            if ref not in known[kind]:
                out.append(f"rules[{i}].{kind}: unknown {kind} {ref!r}; defined: {known[kind]}")
        extra = set(rule.classes or ()) - set(self.detect.classes)
        if extra:
            wanted = list(self.detect.classes)
            out.append(f"rules[{i}].classes: {sorted(extra)} not in detect.classes {wanted}")
        out.extend(f"rules[{i}].{problem}" for problem in rule.camera_problems(self))
        return out

    def rule_classes(self, rule: RuleBase) -> tuple[str, ...]:
        return rule.classes if rule.classes is not None else self.detect.classes

    def zone(self, zone_id: str) -> Zone:
        return next(z for z in self.zones if z.id == zone_id)

    def zone_or_none(self, zone_id: str | None) -> Zone | None:
        """The zone named ``zone_id``; None when ``zone_id`` is None (the whole picture)."""
        return None if zone_id is None else self.zone(zone_id)

    def line(self, line_id: str) -> Line:
        return next(ln for ln in self.lines if ln.id == line_id)

    @property
    def alert_category(self) -> Category:
        return Category(self.category)


class RetentionConfig(Strict):
    max_age_days: float = Field(30.0, gt=0, description="Events and snapshots older than this are pruned")
    max_disk_mb: float = Field(2048.0, gt=0, description="Snapshots are pruned oldest first above this")
    interval_seconds: float = Field(600.0, gt=0, description="How often pruning runs")


class SiteConfig(Strict):
    name: str = Field("IOC", description="Shown on the dashboard")
    timezone: str = Field(
        "Asia/Ho_Chi_Minh", description="IANA time zone of snapshots, live tiles and the wall clock"
    )
    map_center: Location | None = Field(None, description="Map centre; default: the cameras' centroid")


    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            expected = "expected an IANA name such as 'Asia/Ho_Chi_Minh'"
            raise ValueError(f"unknown time zone {v!r}: {expected}") from None
        return v

class IocConfig(Strict):
    site: SiteConfig = Field(default_factory=SiteConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    cameras: tuple[CameraConfig, ...] = Field(..., min_length=1, max_length=1000, description="The cameras")

    @model_validator(mode="after")
    def _unique_cameras(self) -> Self:
        problems = _duplicates("cameras", [c.id for c in self.cameras])
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def camera(self, camera_id: str) -> CameraConfig:
        for cam in self.cameras:
            if cam.id == camera_id:
                return cam
        raise KeyError(f"unknown camera {camera_id!r}; defined: {[c.id for c in self.cameras]}")


def _duplicates(what: str, ids: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for i in ids:
        if i in seen:
            out.append(f"{what}: duplicate id {i!r}")
        seen.add(i)
    return out
