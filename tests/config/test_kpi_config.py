"""kpi.yaml: the bundled file loads; broken files give every error with its path and line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ioc.config.errors import ConfigError
from ioc.config.kpi_loader import load_kpi_config, parse_kpi_config
from ioc.config.kpi_models import PullSource, PushSource, RecordKind

ROOT = Path(__file__).resolve().parents[2]
PULL = "sources:\n  - id: portal\n    type: pull\n    kind: dossier\n    url: http://portal/api\n"


def test_the_bundled_kpi_yaml_loads() -> None:
    config = load_kpi_config(ROOT / "kpi.yaml")
    assert config.demo is True
    assert isinstance(config.source("app"), PushSource)
    assert date(2026, 9, 2) in config.working_hours.holidays
    assert {s.service_code for s in config.open311_services} >= {"den-duong", "rac-thai"}


def test_a_pull_source_gets_its_defaults() -> None:
    source = parse_kpi_config(PULL, "kpi.yaml").source("portal")
    assert isinstance(source, PullSource) and source.kind is RecordKind.DOSSIER
    assert (source.interval_seconds, source.retries, source.cursor_param) == (60.0, 3, "updated_since")


def test_an_empty_file_means_defaults() -> None:
    assert parse_kpi_config("# nothing yet\n", "kpi.yaml").sources == ()


@pytest.mark.parametrize(
    ("text", "errors"),
    [
        (
            PULL.replace("dossier", "dosier"),
            [
                "sources[0].kind: Input should be 'dossier', 'field_report', "
                "'hotline' or 'indicator', got 'dosier' (line 4)"
            ],
        ),
        (
            PULL + "    intervl_seconds: 5\n",
            [
                "sources[0].intervl_seconds: unknown key 'intervl_seconds' (did you "
                "mean 'interval_seconds'?); expected one of id, type, kind, url, "
                "format, interval_seconds, timeout_seconds, retries, backoff_seconds, "
                "auth_header, auth_env, cursor_param, items_key (line 6)"
            ],
        ),
        (
            PULL.replace("pull", "poll"),
            ["sources[0].type: unknown type 'poll': expected one of pull, push (line 3)"],
        ),
        (
            PULL + "  - id: portal\n    type: push\n    kind: hotline\n    token_env: T\n",
            ["sources[1].id: duplicate id 'portal' (first at line 2) (line 6)"],
        ),
        (
            "working_hours:\n  periods: [['13:30', '17:00'], ['07:00', '11:30']]\n",
            [
                "working_hours.periods: expected increasing times without overlap, "
                "e.g. [[07:00, 11:30], ...] (line 2)"
            ],
        ),
        (
            "working_hours:\n  periods: [['7:00', '11:30']]\n",
            [
                "working_hours.periods[0][0]: String should match pattern "
                "'^([01]\\d|2[0-3]):[0-5]\\d$', got '7:00' (line 2)"
            ],
        ),
        (
            "working_hours:\n  holidays: [2026-09-05]\n  makeup_days: [2026-09-05]\n",
            ["working_hours.makeup_days: 2026-09-05 is also listed in holidays (line 3)"],
        ),
        (
            "timezone: Asia/Hanoii\n",
            [
                "timezone: unknown time zone 'Asia/Hanoii': expected an IANA name such as "
                "'Asia/Ho_Chi_Minh' (line 1)"
            ],
        ),
        (
            "- a\n- b\n",
            ["kpi.yaml: expected a mapping of KPI settings at the top level, got a list of 2 items"],
        ),
        (
            "near_due_hours: -1\nrefresh_secs: 3\n",
            [
                "near_due_hours: Input should be greater than or equal to 0, got -1 (line 1)",
                "refresh_secs: unknown key 'refresh_secs' "
                "(did you mean 'refresh_seconds'?); expected one of timezone, "
                "working_hours, refresh_seconds, near_due_hours, early_hours, "
                "on_time_rate_threshold, agency_assignees, demo, sources, open311_services (line 2)",
            ],
        ),
    ],
)
def test_errors_name_path_and_line(text: str, errors: list[str]) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_kpi_config(text, "kpi.yaml")
    assert exc.value.errors == errors


def test_ioc_check_kpi(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ioc.cli import main

    assert main(["check", "--kpi", str(ROOT / "kpi.yaml")]) == 0
    assert capsys.readouterr().out == f"OK: {ROOT / 'kpi.yaml'}: 1 KPI sources, demo feed on\n"
    broken = tmp_path / "kpi.yaml"
    broken.write_text(PULL.replace("dossier", "dosier") + "    timeout_seconds: 0\n", encoding="utf-8")
    assert main(["check", "--kpi", str(broken)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("sources[0].kind: Input should be 'dossier'") and out[0].endswith("(line 4)")
    assert out[1] == "sources[0].timeout_seconds: Input should be greater than 0, got 0 (line 6)"
    assert out[2] == f"FAILED: {broken}: 2 errors"
