"""Pydantic models for ``cameras.yaml``. Validated once into frozen values.

Coordinates are normalised 0..1 (x right, y down) so a camera can change resolution without
editing its rules. Loading (YAML line numbers, ``defaults:`` merge) lives in ``loader.py``.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ioc.config.coco import COCO_CLASSES
from ioc.geometry import polygon_area, self_intersection
from ioc.messages import Category, Severity

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description="Identifier")]
Coord = Annotated[float, Field(ge=0.0, le=1.0)]
NormPoint = tuple[Coord, Coord]


MAX_TEXT = 2048
"""Longest string anywhere in the config (names, sources, paths); lists have their own limits."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, str_max_length=MAX_TEXT)


def _check_classes(classes: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if classes is None:
        return None
    unknown = [c for c in classes if c not in COCO_CLASSES]
    if unknown:
        raise ValueError(
            f"unknown class {unknown[0]!r}: expected COCO class names such as 'person', 'car', 'bus'"
        )
    return classes


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
        4, ge=1, le=16, description="More regions than this in one frame: one full-frame pass instead"
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

    _classes = field_validator("classes")(_check_classes)


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


class RuleBase(Strict):
    id: Id
    enabled: bool = Field(True, description="Turn the rule off without deleting it")
    classes: tuple[str, ...] | None = Field(
        None, description="Object classes the rule applies to; default: the camera's detect.classes"
    )
    severity: Severity = Field(Severity.WARNING, description="info | warning | critical")
    min_confidence: float = Field(0.0, ge=0, le=1, description="Ignore detections below this confidence")
    cooldown_seconds: float | None = Field(
        None, ge=0, description="Overrides the camera's alerts.cooldown_seconds for this rule"
    )

    _classes = field_validator("classes")(_check_classes)


class IntrusionRule(RuleBase):
    type: Literal["intrusion"]
    zone: Id = Field(..., description="Zone id")
    min_seconds: float = Field(0.0, ge=0, description="Object must be inside this long before alerting")


class LineCrossingRule(RuleBase):
    type: Literal["line_crossing"]
    line: Id = Field(..., description="Line id")
    directions: tuple[Literal["in", "out"], ...] = Field(
        ("in", "out"), min_length=1, description="Which crossing directions raise an alert"
    )
    severity: Severity = Field(Severity.INFO, description="info | warning | critical")
    interval_seconds: float = Field(
        60.0, ge=1, le=86400, description="Flow counts per class and direction are reported this often"
    )


class LoiteringRule(RuleBase):
    type: Literal["loitering"]
    zone: Id = Field(..., description="Zone id")
    min_dwell_seconds: float = Field(..., gt=0, description="Time inside the zone before it is loitering")


Rule = Annotated[IntrusionRule | LineCrossingRule | LoiteringRule, Field(discriminator="type")]


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
    zones: tuple[Zone, ...] = Field((), max_length=256)
    lines: tuple[Line, ...] = Field((), max_length=256)
    rules: tuple[Rule, ...] = Field((), max_length=256)

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
            *_duplicates("rules", [r.id for r in self.rules]),
        ]
        for i, rule in enumerate(self.rules):
            problems.extend(self._rule_problems(i, rule))
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _rule_problems(self, i: int, rule: RuleBase) -> list[str]:
        zone_ids = sorted(z.id for z in self.zones)
        line_ids = sorted(ln.id for ln in self.lines)
        out = []
        if isinstance(rule, IntrusionRule | LoiteringRule) and rule.zone not in zone_ids:
            out.append(f"rules[{i}].zone: unknown zone {rule.zone!r}; defined: {zone_ids}")
        if isinstance(rule, LineCrossingRule) and rule.line not in line_ids:
            out.append(f"rules[{i}].line: unknown line {rule.line!r}; defined: {line_ids}")
        extra = set(rule.classes or ()) - set(self.detect.classes)
        if extra:
            wanted = list(self.detect.classes)
            out.append(f"rules[{i}].classes: {sorted(extra)} not in detect.classes {wanted}")
        return out

    def rule_classes(self, rule: RuleBase) -> tuple[str, ...]:
        return rule.classes if rule.classes is not None else self.detect.classes

    def zone(self, zone_id: str) -> Zone:
        return next(z for z in self.zones if z.id == zone_id)

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
