"""Overdue alerts: which start, which end, with the agency named (ioc/kpi/alerts.py)."""

from __future__ import annotations

from ioc.kpi.alerts import AlertInputs, Sourced, dossier_alert, ended, plan_alerts
from ioc.kpi.dossiers import DossierRules, compute_by
from ioc.kpi.workhours import WorkCalendar
from ioc.messages import AlertState, Category
from tests.kpi.factories import at
from tests.kpi.test_dossiers import DOSSIERS, NOW, SEPTEMBER
from tests.kpi.test_reports import REPORTS

CAL = WorkCalendar()


def _inputs() -> AlertInputs:
    by_agency = compute_by(DOSSIERS, "agency", SEPTEMBER, NOW, DossierRules(CAL))
    return AlertInputs(
        dossiers=[Sourced("portal", d) for d in DOSSIERS],
        reports=[Sourced("app", r) for r in REPORTS],
        agency_month=by_agency,
        threshold=90.0,
        calendar=CAL,
    )


def test_overdue_dossier_report_and_low_rate_start() -> None:
    planned = {a.id: a for a in plan_alerts(_inputs(), [], NOW)}
    assert sorted(planned) == [
        "kpi-dossier-portal-HS-4",
        "kpi-neardue-portal-HS-5",  # due 13:00 today, 1.5 working hours from now
        "kpi-rate-A",
        "kpi-report-app-PA-4",
    ]
    near = planned["kpi-neardue-portal-HS-5"]
    assert (near.severity.value, near.rule_type, near.agency) == ("info", "dossier_near_due", "A")
    dossier = planned["kpi-dossier-portal-HS-4"]
    assert (dossier.category, dossier.agency, dossier.camera_id, dossier.state) == (
        Category.PUBLIC_SERVICE,
        "B",
        "B",
        AlertState.START,
    )
    assert "HS-4" in dossier.message.vi and "quá hạn" in dossier.message.vi
    assert planned["kpi-report-app-PA-4"].category is Category.FIELD_REPORT
    assert "50.0%" in planned["kpi-rate-A"].message.en


def test_ongoing_alerts_are_not_restarted_and_settled_ones_end() -> None:
    still = dossier_alert(Sourced("portal", DOSSIERS[3]), at(9, 15, 8))
    settled = dossier_alert(Sourced("portal", DOSSIERS[1]), at(9, 8, 12))  # HS-2 finished since
    camera = still.model_copy(update={"id": "gate-a1"})  # not a KPI alert: never touched
    planned = plan_alerts(_inputs(), [still, settled, camera], NOW)
    assert sorted((a.id, a.state.value) for a in planned) == [
        ("kpi-dossier-portal-HS-2", "end"),
        ("kpi-neardue-portal-HS-5", "start"),
        ("kpi-rate-A", "start"),
        ("kpi-report-app-PA-4", "start"),
    ]
    end = next(a for a in planned if a.state is AlertState.END)
    assert end == ended(settled, NOW) and end.ended_at == NOW


def test_starts_are_assigned_to_the_agencys_user() -> None:
    inputs = _inputs()
    routed = AlertInputs(
        inputs.dossiers, inputs.reports, inputs.agency_month, inputs.threshold, CAL, {"B": "lead-b"}
    )
    planned = {a.id: a.assigned_to for a in plan_alerts(routed, [], NOW)}
    assert planned == {
        "kpi-dossier-portal-HS-4": "lead-b",
        "kpi-neardue-portal-HS-5": None,
        "kpi-report-app-PA-4": "lead-b",
        "kpi-rate-A": None,  # agency A has nobody configured
    }


def test_a_near_due_alert_ends_when_the_dossier_turns_overdue() -> None:
    near = plan_alerts(_inputs(), [], NOW)
    later = at(9, 15, 14)  # HS-5 was due 13:00: now overdue
    planned = {(a.id, a.state.value) for a in plan_alerts(_inputs(), near, later)}
    assert ("kpi-neardue-portal-HS-5", "end") in planned
    assert ("kpi-dossier-portal-HS-5", "start") in planned
