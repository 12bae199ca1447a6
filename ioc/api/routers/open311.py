"""Open311 GeoReport v2 endpoint, so a citizens' app can post field reports straight into ioc.

- ``GET /open311/v2/services.json``: the categories of kpi.yaml ``open311_services``.
- ``GET /open311/v2/requests.json``: filters ``service_request_id`` (comma-separated),
  ``service_code`` (comma-separated), ``status`` (open | closed), ``start_date`` / ``end_date``
  (ISO 8601, on ``requested_datetime``); newest first, at most 1000.
- ``GET /open311/v2/requests/{id}.json``: a one-element list, as the standard has it.
- ``POST /open311/v2/requests.json``: form-encoded (or JSON) ``api_key``, ``service_code``,
  ``lat`` + ``long`` or ``address_string``, ``description``, ``media_url``, ``first_name``,
  ``last_name``, ``email``, ``phone``. ``api_key`` is the token of a ``push`` source of kind
  ``field_report``; the report is stored under that source with step ``received``.

The GETs are public, as in the standard, and never show the reporter's name, e-mail or phone.
Errors are the standard's list of ``{"code", "description"}``.
"""

from __future__ import annotations

import hmac
import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from ioc.api.errors import error_responses
from ioc.api.routers.kpi_deps import Kpi
from ioc.config.kpi_models import PushSource, RecordKind
from ioc.kpi.ingest import ingest
from ioc.kpi.open311 import to_open311
from ioc.kpi.service import KpiService

router = APIRouter(prefix="/open311/v2", tags=["open311"], responses=error_responses(400, 403, 404))
MAX_REQUESTS = 1000


def error(code: int, description: str) -> JSONResponse:
    return JSONResponse([{"code": code, "description": description}], status_code=code)


@router.get("/services.json")
def services(kpi: Kpi) -> list[dict[str, Any]]:
    return [
        {
            "service_code": s.service_code,
            "service_name": s.service_name,
            "description": s.description,
            "metadata": False,
            "type": "realtime",
            "keywords": "",
            "group": s.group,
        }
        for s in kpi.config.open311_services
    ]


def _split(value: str | None) -> set[str] | None:
    return {v.strip() for v in value.split(",") if v.strip()} if value else None


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.get("/requests.json", response_model=None)
def requests(
    kpi: Kpi,
    service_request_id: str | None = None,
    service_code: str | None = None,
    status: Annotated[str | None, Query(pattern="^(open|closed)(,(open|closed))?$")] = None,
    start_date: str | None = None,
    end_date: str | None = None,
) -> list[dict[str, Any]] | JSONResponse:
    try:
        start, end = _when(start_date), _when(end_date)
    except ValueError:
        return error(400, "start_date / end_date: expected ISO 8601, e.g. 2026-11-30T00:00:00+07:00")
    ids, codes, statuses = _split(service_request_id), _split(service_code), _split(status)
    out = []
    for s in sorted(kpi.reports(), key=lambda s: s.record.requested_at, reverse=True):
        r = s.record
        if (ids is not None and r.id not in ids) or (codes is not None and r.service_code not in codes):
            continue
        if statuses is not None and ("closed" if r.is_closed else "open") not in statuses:
            continue
        if (start is not None and r.requested_at < start) or (end is not None and r.requested_at > end):
            continue
        out.append(to_open311(r, _names(kpi)))
        if len(out) >= MAX_REQUESTS:
            break
    return out


@router.get("/requests/{request_id}.json", response_model=None)
def request_one(request_id: str, kpi: Kpi) -> list[dict[str, Any]] | JSONResponse:
    found = [s.record for s in kpi.reports() if s.record.id == request_id]
    if not found:
        return error(404, f"no service request {request_id!r}")
    return [to_open311(found[0], _names(kpi))]


def _names(kpi: KpiService) -> dict[str, str]:
    return {s.service_code: s.service_name for s in kpi.config.open311_services}


def _source_for_key(kpi: KpiService, api_key: str) -> PushSource | None:
    for s in kpi.config.sources:
        if isinstance(s, PushSource) and s.kind is RecordKind.FIELD_REPORT:
            expected = os.environ.get(s.token_env, "")
            if expected and hmac.compare_digest(expected.encode(), api_key.encode()):
                return s
    return None


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        data = json.loads(body or b"{}")
        return {k: str(v) for k, v in data.items() if v is not None} if isinstance(data, dict) else {}
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=False).items()}


@router.post("/requests.json", response_model=None)
async def post_request(request: Request, kpi: Kpi) -> list[dict[str, Any]] | JSONResponse:
    try:
        form = await _form(request)
    except (ValueError, UnicodeDecodeError):
        return error(400, "body: expected form fields or a JSON object")
    source = _source_for_key(kpi, form.get("api_key", ""))
    if source is None:
        return error(403, "api_key: missing or not valid")
    code = form.get("service_code", "")
    names = _names(kpi)
    if names and code not in names:
        return error(400, f"service_code: unknown {code!r}; expected one of {', '.join(sorted(names))}")
    raw = _report(kpi, form, code, datetime.now(UTC))
    result = ingest(kpi.store, source.id, RecordKind.FIELD_REPORT, [raw])
    if result.refused:
        return error(400, "; ".join(result.refused[0].reasons))
    return [{"service_request_id": raw["id"], "service_notice": None, "account_id": None}]


def _report(kpi: KpiService, form: dict[str, str], code: str, now: datetime) -> dict[str, Any]:
    service = next((s for s in kpi.config.open311_services if s.service_code == code), None)
    expected = now + timedelta(hours=service.expected_hours) if service and service.expected_hours else None
    name = " ".join(p for p in (form.get("first_name"), form.get("last_name")) if p) or None
    raw: dict[str, Any] = {
        "id": f"PA-{now:%Y%m%d}-{uuid.uuid4().hex[:8]}",
        "updated_at": now.isoformat(),
        "service_code": code,
        "service_name": service.service_name if service else None,
        "description": form.get("description", ""),
        "lat": form.get("lat"),
        "long": form.get("long"),
        "address": form.get("address_string"),
        "media_url": form.get("media_url"),
        "requested_at": now.isoformat(),
        "expected_at": expected.isoformat() if expected else None,
        "steps": [{"step": "received", "at": now.isoformat(), "by": "open311"}],
        "reporter_name": name,
        "reporter_email": form.get("email"),
        "reporter_phone": form.get("phone"),
    }
    return {k: v for k, v in raw.items() if v is not None}

