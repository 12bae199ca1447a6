"""Hand-built KPI records for the KPI tests (times in Vietnam, UTC+7)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from ioc.kpi.records import Dossier, FieldReport

VN = timezone(timedelta(hours=7))


def at(month: int, day: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=VN)


def dossier(
    n: int,
    received: datetime,
    *,
    due: datetime | None = None,
    finished: datetime | None = None,
    status: int = 4,
    agency: str = "A",
    channel: str = "online",
    **extra: Any,
) -> Dossier:
    return Dossier.model_validate(
        {
            "id": f"HS-{n}",
            "updated_at": finished or received,
            "procedure": extra.pop("procedure", "P1"),
            "field": extra.pop("field", "F1"),
            "agency": agency,
            "channel": channel,
            "received_at": received,
            "due_at": due,
            "finished_at": finished,
            "status": status,
            **extra,
        }
    )


def report(
    n: int,
    requested: datetime,
    *,
    expected: datetime | None = None,
    closed: datetime | None = None,
    code: str = "rac-thai",
    agency: str | None = "A",
    **extra: Any,
) -> FieldReport:
    return FieldReport.model_validate(
        {
            "id": f"PA-{n}",
            "updated_at": closed or requested,
            "service_code": code,
            "lat": 10.8,
            "long": 106.7,
            "requested_at": requested,
            "expected_at": expected,
            "closed_at": closed,
            "step": "closed" if closed else "routed",
            "agency": agency,
            **extra,
        }
    )
