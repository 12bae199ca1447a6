"""Demo feed: generated, clearly-marked sample records (source ``demo``) so the bundled demo's
wall shows living public-service and field-report KPIs. On with ``demo: true`` in kpi.yaml.

At start it back-fills 30 days: dossiers at a province's departments and districts (most
settled on time, some late, a few open and overdue), citizens' field reports, today's hotline
calls and monthly indicators against targets. Then every ``interval_seconds`` a few dossiers and
reports arrive and some open ones move on. Every snapshot computed from them has ``demo: true``
and the wall labels it as demo data. Records are ordinary records: the KPIs, alerts and Open311
endpoint treat them exactly like real ones.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from ioc.config.kpi_models import RecordKind
from ioc.kpi.ingest import RecordSink, ingest
from ioc.kpi.workhours import WorkCalendar
from ioc.periodic import PeriodicThread

SOURCE = "demo"
AGENCIES = (
    "Sở Tư pháp",
    "Sở Kế hoạch và Đầu tư",
    "Sở Xây dựng",
    "Sở Tài nguyên và Môi trường",
    "Sở Giao thông vận tải",
    "UBND huyện Tân Phú",
    "UBND huyện Bình Sơn",
    "UBND thành phố",
)
PROCEDURES = (
    ("TP-LLTP", "Cấp phiếu lý lịch tư pháp", "Tư pháp", 40),
    ("KH-DKDN", "Đăng ký thành lập doanh nghiệp", "Đầu tư", 24),
    ("XD-GPXD", "Cấp giấy phép xây dựng", "Xây dựng", 120),
    ("TN-GCN", "Cấp giấy chứng nhận quyền sử dụng đất", "Đất đai", 240),
    ("GT-GPLX", "Đổi giấy phép lái xe", "Giao thông", 40),
)
SERVICES = ("den-duong", "rac-thai", "o-ga", "lan-chiem", "ngap-nuoc", "cay-xanh")
INDICATORS = (
    ("grdp_growth", "Tăng trưởng GRDP", "%", 7.5),
    ("budget_revenue", "Thu ngân sách", "tỷ đồng", 1200.0),
)
CENTRE = (10.80, 106.70)


class DemoFeed(PeriodicThread):
    def __init__(
        self,
        sink: RecordSink,
        calendar: WorkCalendar,
        *,
        interval_seconds: float = 60.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        seed: int = 8,
        centre: tuple[float, float] = CENTRE,
    ) -> None:
        super().__init__("kpi-demo", interval_seconds)
        self._sink = sink
        self._calendar = calendar
        self._clock = clock
        self._rng = random.Random(seed)
        self._n = 0
        self._started = False
        self._centre = centre

    def run_once(self) -> int:
        now = self._clock()
        if not self._started:
            self._started = True
            return self._backfill(now)
        return self._push(
            RecordKind.DOSSIER, [self.dossier(now) for _ in range(self._rng.randint(0, 3))]
        ) + self._push(RecordKind.FIELD_REPORT, [self.report(now) for _ in range(self._rng.randint(0, 2))])

    def _push(self, kind: RecordKind, raw: list[dict[str, Any]]) -> int:
        return ingest(self._sink, SOURCE, kind, raw).accepted if raw else 0

    def _backfill(self, now: datetime) -> int:
        rng = self._rng
        dossiers = [self.dossier(now - timedelta(hours=rng.uniform(0, 30 * 24))) for _ in range(400)]
        reports = [self.report(now - timedelta(hours=rng.uniform(0, 30 * 24))) for _ in range(120)]
        calls = [self.call(now - timedelta(minutes=rng.uniform(0, 8 * 60))) for _ in range(60)]
        values = [
            self.indicator(code, name, unit, target, m, now)
            for code, name, unit, target in INDICATORS
            for m in range(1, now.month + 1)
        ]
        return sum(
            self._push(kind, raw)
            for kind, raw in (
                (RecordKind.DOSSIER, dossiers),
                (RecordKind.FIELD_REPORT, reports),
                (RecordKind.HOTLINE, calls),
                (RecordKind.INDICATOR, values),
            )
        )

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self._n:06d}"

    def dossier(self, received: datetime) -> dict[str, Any]:
        rng, now = self._rng, self._clock()
        code, name, field, hours = rng.choice(PROCEDURES)
        due = self._calendar.add_working(received, hours * 3600)
        finish = self._calendar.add_working(
            received, hours * 3600 * rng.choice((0.3, 0.6, 0.9, 0.9, 1.05, 1.3))
        )
        out: dict[str, Any] = {
            "id": self._id("HS"),
            "procedure": code,
            "procedure_name": name,
            "field": field,
            "agency": rng.choice(AGENCIES),
            "channel": rng.choice(("online", "online", "in_person", "postal")),
            "received_at": received.isoformat(),
            "due_at": due.isoformat(),
            "status": 4,
            "updated_at": min(finish, now).isoformat(),
        }
        if finish <= now:
            out |= {"status": 10, "finished_at": finish.isoformat(), "returned_at": finish.isoformat()}
        elif rng.random() < 0.1:
            out["status"] = 5
        return out

    def report(self, requested: datetime) -> dict[str, Any]:
        rng, now = self._rng, self._clock()
        closed = requested + timedelta(hours=rng.uniform(2, 96))
        out: dict[str, Any] = {
            "id": self._id("PA"),
            "service_code": rng.choice(SERVICES),
            "description": "Dữ liệu mẫu (demo)",
            "lat": self._centre[0] + rng.uniform(-0.01, 0.01),
            "long": self._centre[1] + rng.uniform(-0.01, 0.01),
            "requested_at": requested.isoformat(),
            "expected_at": (requested + timedelta(hours=72)).isoformat(),
            "agency": rng.choice(AGENCIES),
            "step": "routed",
            "updated_at": min(closed, now).isoformat(),
        }
        if closed <= now:
            out |= {"step": "closed", "closed_at": closed.isoformat(), "answer": "Đã xử lý (demo)"}
        return out

    def call(self, at: datetime) -> dict[str, Any]:
        rng = self._rng
        return {
            "id": self._id("CG"),
            "at": at.isoformat(),
            "updated_at": at.isoformat(),
            "branch": rng.choice(("Tổng đài 1022", "Đường dây nóng CCHC")),
            "topic": rng.choice(("Thủ tục", "Phản ánh", "Tra cứu hồ sơ")),
            "answered": rng.random() < 0.88,
        }

    def indicator(
        self, code: str, name: str, unit: str, target: float, month: int, now: datetime
    ) -> dict[str, Any]:
        value = round(target * self._rng.uniform(0.85, 1.08), 2)
        return {
            "id": f"{code}-{now.year}-{month:02d}",
            "indicator": code,
            "name": name,
            "unit": unit,
            "period": f"{now.year}-{month:02d}",
            "value": value,
            "target": target,
            "updated_at": now.isoformat(),
        }
