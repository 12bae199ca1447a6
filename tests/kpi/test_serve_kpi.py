"""``ioc serve`` with the bundled kpi.yaml, as ./run.sh starts it: demo KPIs at once, the app's
push source live; and a broken kpi.yaml stops it with the error and its line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.api.test_cli import _free_port, _start, _stop

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _cmd(tmp_path: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ioc.cli",
        "serve",
        "--no-engine",
        "--port",
        str(_free_port()),
        "--data-dir",
        str(tmp_path / "data"),
        "--config",
        str(tmp_path / "absent.yaml"),
    ]


def test_serve_runs_the_bundled_kpi_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_KPI_CONFIG_PATH", str(ROOT / "kpi.yaml"))
    monkeypatch.setenv("IOC_APP_TOKEN", "app-secret")
    proc, lines, url = _start(_cmd(tmp_path))
    try:
        assert url, lines
        password = next(ln.split(": ", 2)[2] for ln in lines if "admin password:" in ln)
        login = httpx.post(
            f"{url}api/auth/login", json={"username": "admin", "password": password}, timeout=10
        )
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        kpis = {k["source"]: k for k in httpx.get(f"{url}api/kpi", headers=bearer, timeout=10).json()}
        assert kpis["public_service"]["demo"] is True  # the demo back-fill is in the first snapshot
        received = {v["key"]: v["value"] for v in kpis["public_service"]["values"]}
        assert received["open_within_deadline"] > 0
        report = {
            "id": "PA-1",
            "updated_at": "2026-09-15T07:45:00+07:00",
            "service_code": "o-ga",
            "lat": 10.77,
            "long": 106.7,
            "requested_at": "2026-09-15T07:45:00+07:00",
        }
        pushed = httpx.post(
            f"{url}api/kpi/push/app",
            json=[report],
            timeout=10,
            headers={"Authorization": "Bearer app-secret"},
        )
        assert pushed.status_code == 200 and pushed.json()["accepted"] == 1
        assert (
            httpx.get(f"{url}open311/v2/requests/PA-1.json", timeout=10).json()[0]["service_code"] == "o-ga"
        )
    finally:
        code, rest = _stop(proc, signal.SIGTERM)
    assert code == 0, rest


def test_a_broken_kpi_yaml_stops_serve_with_its_line(tmp_path: Path) -> None:
    broken = tmp_path / "kpi.yaml"
    broken.write_text("refresh_seconds: 0\n", encoding="utf-8")
    env = os.environ | {"IOC_KPI_CONFIG_PATH": str(broken)}
    proc = subprocess.run(_cmd(tmp_path), capture_output=True, text=True, timeout=60, env=env, check=False)
    assert proc.returncode == 2
    assert f"ioc serve: invalid KPI config {broken}:" in proc.stderr
    assert "refresh_seconds: Input should be greater than 0, got 0 (line 1)" in proc.stderr
    assert "Traceback" not in proc.stderr
