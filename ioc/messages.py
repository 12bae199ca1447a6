"""The wire contract: what crosses a process or the network (bus, REST, /ws, exporters, files).

Every message is pydantic with ``extra="forbid"`` and a ``schema_version``. The pipeline, api,
kpi, exporters and the dashboard share these shapes and nothing else.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class WireModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AlertState(enum.StrEnum):
    START = "start"
    UPDATE = "update"
    END = "end"


class AlertStatus(enum.StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Category(enum.StrEnum):
    TRAFFIC = "traffic"
    SECURITY = "security"
    PUBLIC_SERVICE = "public_service"
    FIELD_REPORT = "field_report"


class CameraState(enum.StrEnum):
    CONNECTING = "connecting"
    ONLINE = "online"
    STALLED = "stalled"
    OFFLINE = "offline"
    ERROR = "error"


class ReasonCode(enum.StrEnum):
    """Why a camera is in its state. The wall translates ``reason.<code>`` with ``reason_args``
    (``n``: a number; ``detail``: an error text it shows as written)."""

    STARTING = "starting"
    RECEIVING = "receiving"
    RECONNECTING = "reconnecting"  # n: attempt number
    NO_FIRST_FRAME = "nofirstframe"  # n: seconds
    NO_FRAME = "noframe"  # n: seconds
    EOF = "eof"
    ENDED = "ended"
    STOPPED = "stopped"
    DISABLED = "disabled"
    REFUSED = "refused"
    NOT_FOUND = "notfound"
    DENIED = "denied"
    IS_DIR = "isdir"
    UNREADABLE = "unreadable"
    INVALID = "invalid"
    NO_DATA = "nodata"  # n: seconds
    NO_ANSWER = "noanswer"  # n: seconds
    NO_VIDEO = "novideo"
    NO_DECODABLE = "nodecodable"
    FAILED = "failed"  # detail: the unexpected error
    OTHER = "other"  # detail: the source's own error text


class LocalizedText(WireModel):
    vi: str
    en: str


class Alert(WireModel):
    """One message in an alert's life. start → update* → end share the same ``id``.

    Instant events (line crossings) are a single ``start`` message whose ``ended_at`` equals
    ``started_at``. ``bbox`` is normalised xyxy. ``source_time_s`` is set by ``ioc replay``:
    seconds from the start of the file of the frame that produced this message.
    """

    type: Literal["alert"] = "alert"
    schema_version: int = SCHEMA_VERSION
    id: str = Field(description="Alert id, stable across start/update/end")
    seq: int | None = Field(default=None, description="Bus order; assigned when published")
    camera_id: str
    rule_id: str
    rule_type: str
    state: AlertState
    severity: Severity
    category: Category
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None = None
    track_id: int | None = None
    object_class: str | None = None
    confidence: float | None = None
    bbox: tuple[float, float, float, float] | None = None
    zone_id: str | None = None
    line_id: str | None = None
    direction: Literal["in", "out"] | None = None
    value: float | None = None
    value_unit: str | None = None
    snapshot_url: str | None = None
    message: LocalizedText
    status: AlertStatus = AlertStatus.NEW
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    assigned_to: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    source_time_s: float | None = None
    agency: str | None = Field(
        default=None, description="Agency responsible (public_service / field_report alerts)"
    )


class CameraStatus(WireModel):
    """A camera's state. ``reason`` is the English text of ``reason_code`` with ``reason_args``."""

    type: Literal["camera_status"] = "camera_status"
    schema_version: int = SCHEMA_VERSION
    camera_id: str
    state: CameraState
    reason: str | None = Field(default=None, description="Why, in English (logs, API clients)")
    reason_code: ReasonCode | None = Field(default=None, description="Why, as a code the wall translates")
    reason_args: dict[str, float | str] = Field(default_factory=dict, description="Arguments of the code")
    changed_at: datetime
    fps: float | None = None
    last_frame_age_s: float | None = None
    reconnects: int = 0
    dropped_frames: int = 0


class KpiValue(WireModel):
    key: str
    label: LocalizedText
    value: float | None = Field(default=None, description="None: no value yet (shown as —)")
    unit: str | None = None
    warning: bool = False


class KpiSnapshot(WireModel):
    type: Literal["kpi"] = "kpi"
    schema_version: int = SCHEMA_VERSION
    source: str = Field(description="e.g. public_service, field_report")
    at: datetime
    values: tuple[KpiValue, ...]
    warnings: tuple[LocalizedText, ...] = ()
    category: Category | None = Field(
        default=None, description="Who may see it: roles seeing this category; None: all-seeing roles"
    )
    demo: bool = Field(default=False, description="Computed from generated demo records")
    agency: str | None = Field(
        default=None,
        description="The one agency whose records it counts (sent to that agency's staff only); "
        "None: every agency's",
    )


class FlowBucket(WireModel):
    """Crossings of one object class in one direction during a flow interval."""

    object_class: str
    direction: Literal["in", "out"]
    count: int = Field(ge=0)
    mean_speed_kmh: float | None = Field(
        default=None, description="Mean of the crossings' measured speeds; None when none was measured"
    )
    speed_samples: int = Field(default=0, ge=0, description="How many crossings had a measured speed")


class FlowCount(WireModel):
    """Traffic flow over one line during one interval: counts per class and direction.

    Intervals are aligned to multiples of the rule's ``interval_seconds`` in Unix time (so a 60 s
    interval runs from hh:mm:00 to hh:mm+1:00). ``started_at``/``ended_at`` are the part of that
    interval the camera actually watched: ``partial`` is true when that is less than the whole
    interval (the camera started, stopped or was reconfigured inside it). One message per
    (camera, rule, started_at); a message sent again replaces the earlier one. Classes and
    directions with no crossing are left out of ``counts``.
    """

    type: Literal["flow"] = "flow"
    schema_version: int = SCHEMA_VERSION
    camera_id: str
    category: Category
    rule_id: str
    line_id: str
    interval_seconds: float = Field(gt=0)
    started_at: datetime
    ended_at: datetime
    partial: bool = False
    counts: tuple[FlowBucket, ...] = ()
    source_time_s: float | None = Field(
        default=None, description="ioc replay: file time (s) at which the interval closed"
    )

    @property
    def total(self) -> int:
        return sum(b.count for b in self.counts)


BusMessage = Annotated[Alert | CameraStatus | KpiSnapshot | FlowCount, Field(discriminator="type")]
