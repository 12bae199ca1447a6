"""The README's KPI section stays true: every kpi.yaml key documented, its examples valid, and the
push example answers exactly what the README shows."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from ioc.config import kpi_models as km
from ioc.config.kpi_loader import parse_kpi_config
from ioc.config.kpi_models import RecordKind
from ioc.kpi.records import Record, validate_record
from ioc.kpi.service import KpiService
from tests.api.conftest import Api, build_api

README = Path(__file__).resolve().parents[2] / "README.md"
TEXT = README.read_text(encoding="utf-8")
SECTION = TEXT[TEXT.index("## Public-service and field-report KPIs") : TEXT.index("## Models")]
YAML = re.findall(r"```yaml\n(.*?)```", SECTION, re.DOTALL)
JSON = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", SECTION, re.DOTALL)]
MODELS: list[type[BaseModel]] = [
    km.KpiConfig,
    km.WorkingHoursConfig,
    km.PullSource,
    km.PushSource,
    km.Open311Service,
]
KINDS = {
    "procedure": RecordKind.DOSSIER,
    "service_code": RecordKind.FIELD_REPORT,
    "branch": RecordKind.HOTLINE,
    "indicator": RecordKind.INDICATOR,
}


def kind_of(example: dict[str, object]) -> RecordKind:
    return next(kind for key, kind in KINDS.items() if key in example)


@pytest.mark.parametrize(("model", "field"), [(m, f) for m in MODELS for f in m.model_fields], ids=str)
def test_every_kpi_yaml_key_is_documented(model: type[BaseModel], field: str) -> None:
    assert f"`{field}`" in SECTION


def test_the_kpi_yaml_example_validates() -> None:
    (example,) = YAML
    config = parse_kpi_config(example, str(README))
    assert [s.id for s in config.sources] == ["portal", "open311-city", "app"]


def test_record_examples_validate() -> None:
    records = [e for e in JSON if "updated_at" in e]
    items = [i for e in JSON if "items" in e for i in e["items"]]
    assert len(records) == 4 and len(items) == 1
    for example in [*records, *items]:
        assert isinstance(validate_record(kind_of(example), example), Record), example


@pytest.fixture
def kapi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("IOC_APP_TOKEN", "t0ken")
    for api in build_api(tmp_path):
        config = parse_kpi_config(YAML[0], "kpi.yaml")
        api.app.state.kpi = KpiService(config, config.working_hours.calendar("Asia/Ho_Chi_Minh"), api.store)
        yield api


def test_the_push_example_answers_as_documented(kapi: Api) -> None:
    body = re.search(r"api/kpi/push/app \\\n.*?-d '(.*?)'\n", SECTION, re.DOTALL)
    assert body is not None
    answer = next(e for e in JSON if e.get("source") == "app")
    r = kapi.client.post(
        "/api/kpi/push/app",
        content=body.group(1),
        headers={"Authorization": "Bearer t0ken", "Content-Type": "application/json"},
    )
    assert r.status_code == 200
    assert r.json() == answer


def test_the_open311_example_posts_and_reads_back(kapi: Api) -> None:
    form = {
        "api_key": "t0ken",
        "service_code": "rac-thai",
        "lat": "10.7769",
        "long": "106.7009",
        "description": "Rác tồn đọng trước chợ",
    }
    assert "-d service_code=rac-thai -d lat=10.7769 -d long=106.7009" in SECTION
    (created,) = kapi.client.post("/open311/v2/requests.json", data=form).json()
    listed = kapi.client.get("/open311/v2/requests.json?service_code=rac-thai&status=open").json()
    assert [x["service_request_id"] for x in listed] == [created["service_request_id"]]
