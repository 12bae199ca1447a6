"""Pydantic models for ``kpi.yaml``: KPI sources (pull / push), working hours, thresholds.

Loaded by ``ioc/config/kpi_loader.py`` with the same YAML path + line errors as ``cameras.yaml``.
Secrets never sit in the file: a source names the environment variable holding its token.
"""

from __future__ import annotations

import enum
from datetime import date, time
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from ioc.config.models import Id, SiteConfig, Strict
from ioc.kpi.workhours import WorkCalendar


class RecordKind(enum.StrEnum):
    DOSSIER = "dossier"
    FIELD_REPORT = "field_report"
    HOTLINE = "hotline"
    INDICATOR = "indicator"


ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM")]


class WorkingHoursConfig(Strict):
    periods: tuple[tuple[ClockTime, ClockTime], ...] = Field(
        (("07:00", "11:30"), ("13:30", "17:00")),
        min_length=1,
        description="Daily working periods [start, end], HH:MM, in order",
    )
    weekdays: tuple[Annotated[int, Field(ge=1, le=7)], ...] = Field(
        (1, 2, 3, 4, 5), min_length=1, description="Working weekdays, ISO numbers (1 Monday … 7 Sunday)"
    )
    holidays: tuple[date, ...] = Field((), description="Days off (YYYY-MM-DD), even on a weekday")
    makeup_days: tuple[date, ...] = Field((), description="Working days (YYYY-MM-DD), even on a weekend")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = []
        ends = [p for period in self.periods for p in period]
        if ends != sorted(ends) or len(set(ends)) != len(ends):
            problems.append("periods: expected increasing times without overlap, e.g. [[07:00, 11:30], ...]")
        both = sorted(set(self.holidays) & set(self.makeup_days))
        if both:
            problems.append(f"makeup_days: {both[0].isoformat()} is also listed in holidays")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def calendar(self, timezone: str) -> WorkCalendar:
        return WorkCalendar(
            timezone=timezone,
            periods=tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in self.periods),
            weekdays=frozenset(self.weekdays),
            holidays=frozenset(self.holidays),
            makeup_days=frozenset(self.makeup_days),
        )


class PullSource(Strict):
    id: Id
    type: Literal["pull"]
    kind: RecordKind = Field(..., description="dossier | field_report | hotline | indicator")
    url: str = Field(..., pattern=r"^https?://", description="JSON endpoint polled with GET")
    format: Literal["ioc", "open311"] = Field(
        "ioc", description="ioc: our record format; open311: a GeoReport v2 requests.json"
    )
    interval_seconds: float = Field(60.0, gt=0, le=86400, description="Seconds between polls")
    timeout_seconds: float = Field(10.0, gt=0, le=300, description="HTTP timeout per request")
    retries: int = Field(3, ge=0, le=20, description="Retries of a failed poll before the next interval")
    backoff_seconds: float = Field(1.0, ge=0, le=600, description="First retry delay; doubles each retry")
    auth_header: str = Field("Authorization", description="Header carrying the credential")
    auth_env: str | None = Field(
        None, description="Environment variable holding the header's value (e.g. 'Bearer abc…')"
    )
    cursor_param: str = Field(
        "updated_since", description="Query parameter carrying the cursor (the newest updated_at seen)"
    )
    items_key: str | None = Field(
        None, description="Key of the record list in the response object; null: the response is the list"
    )


class PushSource(Strict):
    id: Id
    type: Literal["push"]
    kind: RecordKind = Field(..., description="dossier | field_report | hotline | indicator")
    token_env: str = Field(
        ..., pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Environment variable holding the push token"
    )


class Open311Service(Strict):
    service_code: Id
    service_name: str = Field(..., min_length=1, description="Shown to citizens")
    description: str = ""
    group: str = Field("", description="Field (lĩnh vực) the category belongs to")
    expected_hours: float | None = Field(
        None, gt=0, description="SLA of a new report: expected_datetime = received + these clock hours"
    )


Source = Annotated[PullSource | PushSource, Field(discriminator="type")]


class KpiConfig(Strict):
    timezone: str | None = Field(
        None, description="IANA zone of deadlines and periods; default: site.timezone of cameras.yaml"
    )
    working_hours: WorkingHoursConfig = Field(default_factory=WorkingHoursConfig)
    refresh_seconds: float = Field(30.0, gt=0, le=3600, description="Seconds between KPI refreshes")
    near_due_hours: float = Field(
        4.0, ge=0, description="A dossier due within this many working hours is 'near due'"
    )
    early_hours: float = Field(
        8.0, ge=0, description="Finished at least this many working hours before due counts 'early'"
    )
    on_time_rate_threshold: float = Field(
        90.0, ge=0, le=100, description="An agency whose on-time rate (this month) is below it gets an alert"
    )
    agency_assignees: dict[str, str] = Field(
        default_factory=dict,
        description="Agency → username: KPI alerts of that agency start assigned to this user",
    )
    demo: bool = Field(False, description="Feed generated demo records (source 'demo'), marked as demo")
    sources: tuple[Source, ...] = Field((), description="Where records come from")
    open311_services: tuple[Open311Service, ...] = Field(
        (), description="Categories offered at /open311/v2/services.json (empty: any service_code accepted)"
    )

    @model_validator(mode="after")
    def _known_zone(self) -> Self:
        if self.timezone is not None:
            SiteConfig(timezone=self.timezone)  # the same check and message as site.timezone
        return self

    @model_validator(mode="after")
    def _unique_sources(self) -> Self:
        ids = [s.id for s in self.sources]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"sources: duplicate id {dup[0]!r}")
        return self

    def source(self, source_id: str) -> PullSource | PushSource | None:
        return next((s for s in self.sources if s.id == source_id), None)
