"""Open311 round trip with a standard GeoReport v2 client from PyPI (``georeport``) against the real
server: a report posted the standard way is read back and filtered by the client library."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from georeport import GeoReport

from ioc.config.kpi_loader import parse_kpi_config
from ioc.kpi.service import KpiService
from ioc.store.sqlite import SqliteStore
from tests.dashboard.live_site import LiveSite, live_site

pytestmark = pytest.mark.slow

KPI_YAML = """
sources: [{id: app, type: push, kind: field_report, token_env: TEST_OPEN311_KEY}]
open311_services:
  - {service_code: den-duong, service_name: "Đèn đường hỏng", expected_hours: 48}
  - {service_code: rac-thai, service_name: "Rác thải"}
"""


def _service(store: SqliteStore) -> KpiService:
    config = parse_kpi_config(KPI_YAML, "kpi.yaml")
    return KpiService(config, config.working_hours.calendar("Asia/Ho_Chi_Minh"), store)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveSite]:
    monkeypatch.setenv("TEST_OPEN311_KEY", "k3y")
    with live_site(tmp_path, kpi_factory=_service) as running:
        yield running


def _post(site: LiveSite, **fields: str) -> str:
    """POST as the GeoReport v2 spec has it: form-encoded, with api_key."""
    r = httpx.post(f"{site.url}/open311/v2/requests.json", data={"api_key": "k3y", **fields}, timeout=10)
    assert r.status_code == 200, r.text
    return str(r.json()[0]["service_request_id"])


def test_post_read_back_and_filter_with_a_georeport_client(site: LiveSite) -> None:
    lamp = _post(
        site,
        service_code="den-duong",
        lat="10.77",
        long="106.70",
        description="Đèn tắt",
        first_name="Lan",
        phone="0900000000",
    )
    trash = _post(site, service_code="rac-thai", address_string="12 Lê Lợi", description="Rác")
    client = GeoReport(f"{site.url}/open311/v2")
    assert [s["service_code"] for s in client.get_service_list()] == ["den-duong", "rac-thai"]
    one = client.get_service_request(lamp)
    assert (one["service_code"], one["status"], one["lat"], one["long"]) == (
        "den-duong",
        "open",
        10.77,
        106.7,
    )
    assert one["expected_datetime"] is not None and "Lan" not in str(one) and "0900000000" not in str(one)
    assert [r["service_request_id"] for r in client.get_service_requests(service_code="rac-thai")] == [trash]
    both = client.get_service_requests(service_request_id=f"{lamp},{trash}", status="open")
    assert sorted(r["service_request_id"] for r in both) == sorted([lamp, trash])
    assert client.get_service_requests(status="closed") == []
