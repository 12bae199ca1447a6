"""Open311 GeoReport v2 ⇄ our :class:`~ioc.kpi.records.FieldReport`.

A GeoReport v2 request (``requests.json``) maps to a field report as follows:
``service_request_id`` → ``id``, ``updated_datetime`` → ``updated_at`` (``requested_datetime``
when absent), ``requested_datetime`` → ``requested_at``, ``expected_datetime`` → ``expected_at``,
``agency_responsible`` → ``agency``, ``status_notes`` → ``answer``; ``status: closed`` → step
``closed`` with ``closed_at`` from ``extended_attributes.closed_datetime`` or else
``updated_datetime``. The Vietnamese extras ride in ``extended_attributes``: ``step``,
``urgency``, ``field``, ``rating``, ``steps``.

Going out (:func:`to_open311`) the reporter's name, e-mail and phone are never included.
"""

from __future__ import annotations

from typing import Any

from ioc.kpi.records import FieldReport, ReportStep

_DIRECT = {
    "service_request_id": "id",
    "service_code": "service_code",
    "service_name": "service_name",
    "description": "description",
    "lat": "lat",
    "long": "long",
    "address": "address",
    "media_url": "media_url",
    "requested_datetime": "requested_at",
    "expected_datetime": "expected_at",
    "agency_responsible": "agency",
    "status_notes": "answer",
}
_EXTENDED = ("step", "urgency", "field", "rating", "steps")


def from_open311(request: Any) -> Any:
    """A raw field-report dict from a GeoReport v2 request (left as is when not an object, so
    validation reports it)."""
    if not isinstance(request, dict):
        return request
    out: dict[str, Any] = {
        ours: request[theirs] for theirs, ours in _DIRECT.items() if request.get(theirs) is not None
    }
    if isinstance(out.get("id"), int):
        out["id"] = str(out["id"])
    out["updated_at"] = request.get("updated_datetime") or request.get("requested_datetime")
    extended = request.get("extended_attributes") or {}
    if isinstance(extended, dict):
        out.update({k: extended[k] for k in _EXTENDED if extended.get(k) is not None})
    if request.get("status") == "closed":
        out["step"] = ReportStep.CLOSED.value
        closed = extended.get("closed_datetime") if isinstance(extended, dict) else None
        out["closed_at"] = closed or out["updated_at"]
    elif out.get("step") == ReportStep.CLOSED.value:
        out["step"] = ReportStep.IN_PROGRESS.value  # the standard's status wins: it is still open
    return out


def to_open311(report: FieldReport, service_names: dict[str, str] | None = None) -> dict[str, Any]:
    """The public GeoReport v2 view of a report (no reporter details)."""

    def iso(moment: Any) -> str | None:
        return moment.isoformat() if moment is not None else None

    return {
        "service_request_id": report.id,
        "status": "closed" if report.is_closed else "open",
        "status_notes": report.answer,
        "service_name": report.service_name or (service_names or {}).get(report.service_code),
        "service_code": report.service_code,
        "description": report.description,
        "agency_responsible": report.agency,
        "service_notice": None,
        "requested_datetime": iso(report.requested_at),
        "updated_datetime": iso(report.updated_at),
        "expected_datetime": iso(report.expected_at),
        "address": report.address,
        "address_id": None,
        "zipcode": None,
        "lat": report.lat,
        "long": report.long,
        "media_url": report.media_url,
        "extended_attributes": {
            "step": report.step.value,
            "urgency": report.urgency,
            "field": report.field,
            "rating": report.rating,
            "closed_datetime": iso(report.closed_at),
            "steps": [s.model_dump(mode="json") for s in report.steps],
        },
    }
