"""The wall's KPI panel in Chromium: public-service KPIs from real records, agencies worst first,
the overdue list, and nothing of it for a role that may not see public services."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ioc.config.kpi_loader import parse_kpi_config
from ioc.config.kpi_models import RecordKind
from ioc.kpi.ingest import ingest
from ioc.kpi.service import KpiRefresher, KpiService
from ioc.store.sqlite import SqliteStore
from tests.dashboard.conftest import login, screenshot
from tests.dashboard.live_site import LiveSite, StillFrames, live_site, site_config

pytestmark = pytest.mark.slow

KPI_YAML = """
working_hours: {periods: [["00:00", "23:59"]], weekdays: [1, 2, 3, 4, 5, 6, 7]}
sources: [{id: portal, type: push, kind: dossier, token_env: UNUSED}]
"""


def _service(store: SqliteStore) -> KpiService:
    config = parse_kpi_config(KPI_YAML, "kpi.yaml")
    return KpiService(config, config.working_hours.calendar("Asia/Ho_Chi_Minh"), store)


@pytest.fixture
def kpi_site(tmp_path: Path) -> Iterator[LiveSite]:
    with live_site(tmp_path, engine=StillFrames(site_config()), kpi_factory=_service) as running:
        yield running


def _dossier(
    n: int, agency: str, received: datetime, due: datetime, finished: datetime | None
) -> dict[str, object]:
    out: dict[str, object] = {
        "id": f"HS-{n}",
        "updated_at": (finished or received).isoformat(),
        "procedure": "XD-GPXD",
        "field": "Xây dựng",
        "agency": agency,
        "channel": "online",
        "received_at": received.isoformat(),
        "due_at": due.isoformat(),
        "status": 4,
    }
    if finished is not None:
        out |= {"status": 9, "finished_at": finished.isoformat()}
    return out


def _publish_kpis(site: LiveSite) -> None:
    now = datetime.now(UTC)
    day = timedelta(days=1)
    minute = timedelta(minutes=1)
    records = [
        _dossier(1, "Sở Xây dựng", now - 3 * day, now - day, now - minute),  # late
        _dossier(2, "Sở Tư pháp", now - 3 * day, now + day, now - minute),  # on time
        _dossier(3, "Sở Xây dựng", now - 3 * day, now - timedelta(hours=5), None),  # open, overdue
    ]
    assert ingest(site.store, "portal", RecordKind.DOSSIER, records).accepted == 3
    report = {
        "id": "PA-1",
        "updated_at": (now - day).isoformat(),
        "service_code": "o-ga",
        "lat": 21.0300,
        "long": 105.8530,
        "requested_at": (now - 2 * day).isoformat(),
        "expected_at": (now - day).isoformat(),
    }
    assert ingest(site.store, "app", RecordKind.FIELD_REPORT, [report]).accepted == 1
    grdp = [
        {
            "id": f"g{m}",
            "updated_at": now.isoformat(),
            "indicator": "grdp",
            "name": "Tăng trưởng GRDP",
            "unit": "%",
            "period": f"2026-{m:02d}",
            "value": v,
            "target": 7.5,
        }
        for m, v in ((1, 6.1), (2, 6.8), (3, 7.0))
    ]
    assert ingest(site.store, "stats", RecordKind.INDICATOR, grdp).accepted == 3
    service = _service(site.store)
    KpiRefresher(service, site.bus.publish).run_once()


def test_wall_shows_public_service_kpis(kpi_site: LiveSite, page: Page) -> None:
    login(page, kpi_site, "op1")
    _publish_kpis(kpi_site)
    block = page.locator("[data-testid=kpi-source][data-source=public_service]")
    expect(block.locator(".kpi-source-title")).to_contain_text("Dịch vụ công")
    expect(block.locator("[data-testid=kpi-value][data-key=on_time_rate_month]")).to_contain_text("50")
    expect(block.locator("[data-testid=kpi-value][data-key=open_overdue]")).to_have_attribute(
        "data-warning", "true"
    )
    agencies = block.get_by_test_id("kpi-agency")
    expect(agencies).to_have_count(2)
    expect(agencies.first).to_have_attribute("data-agency", "Sở Xây dựng")  # worst first
    expect(block.get_by_test_id("kpi-overdue-row")).to_contain_text(["HS-3 · Sở Xây dựng"])
    overdue = page.locator("[data-testid=alert-item][data-alert-id=kpi-dossier-portal-HS-3]")
    expect(overdue).to_contain_text("Hồ sơ quá hạn")  # the rule's label in the feed
    expect(overdue).to_contain_text("Sở Xây dựng")  # the agency stands where a camera would
    expect(page.locator("[data-testid=map-report][data-report-id=PA-1]")).to_have_attribute(
        "data-overdue", "true"
    )
    expect(page.get_by_test_id("map-marker")).to_have_count(3)  # the cameras stay on the map
    indicator = page.locator("[data-testid=kpi-indicator][data-indicator=grdp]")
    expect(indicator).to_contain_text("Tăng trưởng GRDP (2026-03)")
    expect(indicator.locator(".kpi-row-value")).to_have_class(re.compile("warn"))  # 7 < 7,5
    expect(indicator.get_by_test_id("kpi-spark")).to_have_count(1)
    screenshot(page, "kpi-public-service-1920x1080-vi.png")


def test_police_sees_no_public_service_block(kpi_site: LiveSite, page: Page) -> None:
    login(page, kpi_site, "cop")
    _publish_kpis(kpi_site)
    page.wait_for_timeout(500)
    expect(page.locator("[data-testid=kpi-source][data-source=public_service]")).to_have_count(0)
    expect(page.get_by_test_id("map-report")).to_have_count(0)
