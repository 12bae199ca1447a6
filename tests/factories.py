"""Factories for test values: frames, detections, camera configs, rule hits. Factories only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ioc.config.models import CameraConfig, IocConfig
from ioc.messages import Alert, CameraStatus, FlowCount, KpiSnapshot
from ioc.types import Detections, Frame, HitKind, RuleHit

Box = tuple[float, float, float, float]


def _column(value: Any, n: int, dtype: Any) -> np.ndarray[Any, Any]:
    if isinstance(value, str | int | float):
        return np.full(n, value, dtype=dtype)
    arr = np.asarray(list(value), dtype=dtype)
    if arr.shape != (n,):
        raise ValueError(f"factory column has {len(arr)} values for {n} detections")
    return arr


def make_detections(
    xyxy: Sequence[Box] | None = None,
    *,
    anchors: Sequence[tuple[float, float]] | None = None,
    size: tuple[float, float] = (0.06, 0.12),
    class_name: str | Sequence[str] = "person",
    confidence: float | Sequence[float] = 0.9,
    tracker_id: int | Sequence[int] | None = None,
) -> Detections:
    """Detections from normalised boxes, or from anchors (bottom-centre) with boxes of ``size``.

    ``tracker_id`` defaults to 1..N; class ids follow the order of first appearance of names.
    """
    if (xyxy is None) == (anchors is None):
        raise ValueError("give exactly one of xyxy or anchors")
    if anchors is not None:
        w, h = size
        xyxy = [(x - w / 2, y - h, x + w / 2, y) for x, y in anchors]
    boxes = np.asarray(xyxy, dtype=np.float32).reshape(-1, 4)
    n = len(boxes)
    names = _column(class_name, n, object)
    order = {name: i for i, name in enumerate(dict.fromkeys(names.tolist()))}
    return Detections(
        xyxy=boxes,
        confidence=_column(confidence, n, np.float32),
        class_id=np.asarray([order[c] for c in names], dtype=np.int64),
        class_name=names,
        tracker_id=_column(range(1, n + 1) if tracker_id is None else tracker_id, n, np.int64),
    )


def make_frame(
    timestamp: float = 0.0,
    *,
    camera_id: str = "cam-1",
    wall_time: float | None = None,
    index: int = 0,
    width: int = 640,
    height: int = 360,
    image: np.ndarray[Any, Any] | None = None,
) -> Frame:
    """A frame; ``wall_time`` defaults to 2026-01-01T00:00:00Z + ``timestamp``."""
    if image is None:
        image = np.full((height, width, 3), 96, dtype=np.uint8)
    return Frame(
        camera_id=camera_id,
        image=image,
        timestamp=timestamp,
        wall_time=1_767_225_600.0 + timestamp if wall_time is None else wall_time,
        index=index,
    )


def make_camera(
    *,
    rules: Sequence[Mapping[str, Any]] = (),
    zones: Sequence[Mapping[str, Any]] = (),
    lines: Sequence[Mapping[str, Any]] = (),
    **fields: Any,
) -> CameraConfig:
    """A validated camera config; ``fields`` override any top-level camera field."""
    data: dict[str, Any] = {
        "id": "cam-1",
        "source": "demo.mp4",
        "zones": list(zones),
        "lines": list(lines),
        "rules": list(rules),
    }
    data.update(fields)
    return CameraConfig.model_validate(data)


def make_hit(
    timestamp: float,
    *,
    rule_id: str = "no-entry",
    rule_type: str = "intrusion",
    kind: HitKind = HitKind.STATE,
    track_id: int = 7,
    object_class: str = "person",
    confidence: float = 0.9,
    bbox: Box = (0.3, 0.3, 0.4, 0.6),
    zone_id: str | None = None,
    line_id: str | None = None,
    direction: str | None = None,
    value: float | None = None,
    value_unit: str | None = None,
) -> RuleHit:
    """A rule hit; zone rules default to zone ``restricted``, line crossings to line ``l1``."""
    if zone_id is None and rule_type in ("intrusion", "loitering"):
        zone_id = "restricted"
    if line_id is None and rule_type == "line_crossing":
        line_id = "l1"
    return RuleHit(
        rule_id=rule_id,
        rule_type=rule_type,
        kind=kind,
        track_id=track_id,
        object_class=object_class,
        confidence=confidence,
        bbox=bbox,
        timestamp=timestamp,
        zone_id=zone_id,
        line_id=line_id,
        direction=direction,
        value=value,
        value_unit=value_unit,
    )


def make_alert(
    n: int = 1,
    *,
    camera_id: str = "gate",
    category: str = "security",
    rule_type: str = "intrusion",
    severity: str = "warning",
    state: str = "start",
    at: float = 1_700_000_000.0,
    **fields: Any,
) -> Alert:
    """Alert number ``n`` (id ``<camera>-a<n>``), started ``n`` seconds after ``at`` (Unix s)."""
    started = datetime.fromtimestamp(at + n, tz=UTC)
    data: dict[str, Any] = {
        "id": f"{camera_id}-a{n}",
        "camera_id": camera_id,
        "rule_id": f"{rule_type}-1",
        "rule_type": rule_type,
        "state": state,
        "severity": severity,
        "category": category,
        "started_at": started,
        "updated_at": started,
        "message": {"vi": f"Cảnh báo {n}", "en": f"Alert {n}"},
    }
    data.update(fields)
    return Alert.model_validate(data)


def make_camera_status(camera_id: str = "gate", state: str = "online", **fields: Any) -> CameraStatus:
    return CameraStatus.model_validate(
        {"camera_id": camera_id, "state": state, "changed_at": datetime.now(UTC), **fields}
    )


def make_kpi(
    source: str = "public_service",
    *,
    values: int = 1,
    label_chars: int = 10,
    category: str | None = "public_service",
) -> KpiSnapshot:
    """A KPI snapshot with ``values`` values; ``label_chars`` makes it as large as a test needs;
    ``category`` says which roles may see it (None: all-seeing roles only)."""
    label = "x" * label_chars
    return KpiSnapshot.model_validate(
        {
            "source": source,
            "category": category,
            "at": datetime.now(UTC),
            "values": [
                {"key": f"k{i}", "label": {"vi": label, "en": label}, "value": float(i)}
                for i in range(values)
            ],
        }
    )


def make_flow(
    minute: int = 0,
    *,
    camera_id: str = "street",
    category: str = "traffic",
    rule_id: str = "count",
    line_id: str = "l1",
    at: float = 1_767_225_600.0,
    counts: Mapping[tuple[str, str], int] | None = None,
    **fields: Any,
) -> FlowCount:
    """The 60 s flow interval number ``minute`` after ``at`` (Unix s); ``counts`` by (class, direction)."""
    start = at + 60 * minute
    data: dict[str, Any] = {
        "camera_id": camera_id,
        "category": category,
        "rule_id": rule_id,
        "line_id": line_id,
        "interval_seconds": 60,
        "started_at": datetime.fromtimestamp(start, tz=UTC),
        "ended_at": datetime.fromtimestamp(start + 60, tz=UTC),
        "counts": [
            {"object_class": c, "direction": d, "count": n}
            for (c, d), n in sorted(({("car", "in"): 1} if counts is None else counts).items())
        ],
    }
    data.update(fields)
    return FlowCount.model_validate(data)


def make_ioc_config(**fields: Any) -> IocConfig:
    """Two cameras: ``street`` (traffic) and ``gate`` (security)."""
    data: dict[str, Any] = {
        "cameras": [
            {"id": "street", "source": "street.mp4", "category": "traffic"},
            {"id": "gate", "source": "gate.mp4", "category": "security"},
        ]
    }
    data.update(fields)
    return IocConfig.model_validate(data)


class BlobDetector:
    """A real, tiny ``Detector``: every bright blob (grey > ``threshold``) is a ``person``.

    For pipeline tests on synthetic clips (a bright box on a dark ground) without the model.
    ``batches`` records the size of every ``detect`` call.
    """

    name = "blob"
    class_names: tuple[str, ...] = ("person",)

    def __init__(self, threshold: int = 100, min_area: int = 20) -> None:
        self.threshold = threshold
        self.min_area = min_area
        self.batches: list[int] = []

    def detect(
        self,
        images: Sequence[np.ndarray[Any, Any]],
        *,
        imgsz: int,
        confidence: float,
        classes: tuple[str, ...] | None = None,
    ) -> list[Detections]:
        import cv2

        self.batches.append(len(images))
        out = []
        for image in images:
            grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
            n, _, stats, _ = cv2.connectedComponentsWithStats((grey > self.threshold).astype(np.uint8))
            h, w = grey.shape
            boxes = [
                (x / w, y / h, (x + bw) / w, (y + bh) / h)
                for x, y, bw, bh, area in stats[1:n].tolist()
                if area >= self.min_area and bh > 4
            ]
            wanted = classes is None or "person" in classes
            found = boxes and wanted
            out.append(make_detections(boxes, tracker_id=-1) if found else Detections.empty())
        return out
