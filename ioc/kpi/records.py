"""The four record kinds a KPI source delivers, validated one by one.

Every record has an ``id`` (unique within its source) and an ``updated_at``; storing a record
again with the same (source, id) replaces it. Times must carry a UTC offset
(``2026-11-30T08:15:00+07:00``): a naive time is refused, since a portal's local time and ours
may differ.

- :class:`Dossier`: an administrative dossier (hồ sơ) with the national status code
  TrangThaiHoSo 1–10.
- :class:`FieldReport`: a citizen's report (phản ánh hiện trường) in Open311 GeoReport v2 terms,
  with its workflow steps (received → classified → routed → in_progress → closed).
- :class:`HotlineCall`: one call to the administrative-reform hotline.
- :class:`Indicator`: one value of a socio-economic indicator for one period, against a target.

:func:`validate_record` turns one raw JSON object into a record or a list of reasons.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from ioc.config.kpi_models import RecordKind

RecordId = Annotated[str, Field(min_length=1, max_length=128, description="Unique within the source")]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    id: RecordId
    updated_at: AwareDatetime = Field(..., description="Last change at the source; drives the pull cursor")


class DossierStatus(enum.IntEnum):
    """TrangThaiHoSo, the national dossier status codes."""

    REGISTERED = 1
    ACCEPTED = 2
    NOT_ACCEPTED = 3
    PROCESSING = 4
    SUPPLEMENT_REQUESTED = 5
    FEE_REQUESTED = 6
    WITHDRAWN = 7
    STOPPED = 8
    PROCESSED = 9
    RETURNED = 10


FINISHED = frozenset({DossierStatus.PROCESSED, DossierStatus.RETURNED})
PAUSED = frozenset({DossierStatus.SUPPLEMENT_REQUESTED, DossierStatus.FEE_REQUESTED, DossierStatus.STOPPED})
DROPPED = frozenset({DossierStatus.NOT_ACCEPTED, DossierStatus.WITHDRAWN})


class Dossier(Record):
    procedure: Name = Field(..., description="Procedure code (mã thủ tục)")
    procedure_name: str | None = None
    field: Name = Field(..., description="Field (lĩnh vực)")
    agency: Name = Field(..., description="Agency handling it (code or name)")
    channel: Literal["in_person", "online", "postal"]
    online_level: Literal["partial", "full"] | None = None
    received_at: AwareDatetime
    due_at: AwareDatetime | None = Field(None, description="Deadline; none: the procedure has none")
    finished_at: AwareDatetime | None = Field(None, description="When it was processed (status 9/10)")
    returned_at: AwareDatetime | None = Field(None, description="When the result was handed back")
    status: DossierStatus

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.status in FINISHED and self.finished_at is None:
            raise ValueError(f"finished_at: required when status is {self.status.value}")
        if self.due_at is not None and self.due_at < self.received_at:
            raise ValueError("due_at: earlier than received_at")
        if self.finished_at is not None and self.finished_at < self.received_at:
            raise ValueError("finished_at: earlier than received_at")
        return self

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED


class ReportStep(enum.StrEnum):
    RECEIVED = "received"
    CLASSIFIED = "classified"
    ROUTED = "routed"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class StepRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    step: ReportStep
    at: AwareDatetime
    by: str | None = Field(None, max_length=200, description="Who took the step")
    note: str | None = Field(None, max_length=2000)


class FieldReport(Record):
    service_code: Name = Field(..., description="Open311 service_code (category)")
    service_name: str | None = None
    description: str = Field("", max_length=4000)
    lat: float | None = Field(None, ge=-90, le=90)
    long: float | None = Field(None, ge=-180, le=180)
    address: str | None = Field(None, max_length=500)
    media_url: str | None = Field(None, max_length=1000)
    requested_at: AwareDatetime
    expected_at: AwareDatetime | None = Field(None, description="Open311 expected_datetime: the SLA")
    closed_at: AwareDatetime | None = None
    step: ReportStep = ReportStep.RECEIVED
    steps: tuple[StepRecord, ...] = Field((), description="Each workflow step with who and when")
    agency: str | None = Field(None, max_length=200, description="Handling agency (đơn vị xử lý)")
    field: str | None = Field(None, max_length=200, description="Field (lĩnh vực)")
    urgency: Literal["normal", "urgent"] = "normal"
    answer: str | None = Field(None, max_length=4000, description="Published answer (Open311 status_notes)")
    rating: int | None = Field(None, ge=1, le=5, description="Citizen's rating of the answer")
    reporter_name: str | None = Field(None, max_length=200, description="Private: never published")
    reporter_email: str | None = Field(None, max_length=200, description="Private: never published")
    reporter_phone: str | None = Field(None, max_length=50, description="Private: never published")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.step is ReportStep.CLOSED and self.closed_at is None:
            raise ValueError("closed_at: required when step is 'closed'")
        if self.lat is None and self.long is None and not self.address:
            raise ValueError("lat/long or address: a report needs a place")
        if (self.lat is None) != (self.long is None):
            raise ValueError("lat/long: give both or neither")
        return self

    @property
    def is_closed(self) -> bool:
        return self.step is ReportStep.CLOSED


class HotlineCall(Record):
    at: AwareDatetime = Field(..., description="When the call came in")
    branch: Name = Field(..., description="Hotline branch (đầu mối)")
    topic: Name
    answered: bool
    duration_seconds: float | None = Field(None, ge=0)


class Indicator(Record):
    indicator: Name = Field(..., description="Indicator code, e.g. grdp_growth")
    name: str | None = None
    unit: str = Field(..., max_length=30)
    period: str = Field(
        ..., pattern=r"^\d{4}(-(0[1-9]|1[0-2]|Q[1-4]))?$", description="YYYY, YYYY-MM or YYYY-Qn"
    )
    value: float
    target: float | None = None
    agency: str | None = Field(None, max_length=200)


MODELS: dict[RecordKind, type[Record]] = {
    RecordKind.DOSSIER: Dossier,
    RecordKind.FIELD_REPORT: FieldReport,
    RecordKind.HOTLINE: HotlineCall,
    RecordKind.INDICATOR: Indicator,
}


def validate_record(kind: RecordKind, raw: Any) -> Record | list[str]:
    """The record, or the reasons it is refused (``field: what was wrong``)."""
    if not isinstance(raw, dict):
        return [f"expected a JSON object, got {type(raw).__name__}"]
    try:
        return MODELS[kind].model_validate(raw)
    except ValidationError as exc:
        return [_reason(err) for err in exc.errors(include_url=False)]


def _reason(err: Any) -> str:
    where = ".".join(str(p) for p in err["loc"]) or "record"
    msg = str(err["msg"]).removeprefix("Value error, ")
    if ": " in msg and err["type"] == "value_error":
        return msg
    return f"{where}: {msg}"


def raw_id(raw: Any) -> str | None:
    """The ``id`` of a raw record when it has a usable one (for a refusal's report)."""
    value = raw.get("id") if isinstance(raw, dict) else None
    return str(value) if isinstance(value, str | int) else None
