"""Hot reload on a running engine with real RTSP cameras (a moving ball each, the blob detector).

A rule change on one camera reconnects nobody and the other camera's frames keep flowing; an
invalid file is refused with ``ioc check``'s errors and the old config keeps running; a source
change reconnects only that camera; cameras added and removed start and stop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ioc.config.loader import ConfigError, load_config
from ioc.config.reload import ConfigReloader
from ioc.messages import CameraState, CameraStatus
from ioc.pipeline.supervisor import Engine
from ioc.settings import load_settings
from tests.factories import BlobDetector
from tests.rtsp_fixture import RtspServer, rtsp_server_factory

__all__ = ["rtsp_server_factory"]

pytestmark = pytest.mark.slow

WAIT_S = 30.0
FLOW_S = 3.0


def camera_yaml(camera_id: str, source: str, rules: str) -> str:
    return f"""
  - id: {camera_id}
    source: {source}
    detect: {{fps: 5, classes: [person]}}
    zones:
      - {{id: all, polygon: [[0, 0], [1, 0], [1, 1], [0, 1]]}}
    rules:
{rules}"""


ENTER = "      - {id: enter, type: intrusion, zone: all}"
LINGER = "      - {id: linger, type: loitering, zone: all, min_dwell_seconds: 2}"


def write(path: Path, *cameras: str) -> None:
    path.write_text("cameras:" + "".join(cameras) + "\n", encoding="utf-8")


def wait_until(what: str, condition: Callable[[], bool], seconds: float = WAIT_S) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def threads() -> dict[str, threading.Thread]:
    return {t.name: t for t in threading.enumerate() if t.name.startswith("ioc-") and t.is_alive()}


def test_hot_reload_on_a_running_engine(
    rtsp_server_factory: Callable[..., RtspServer], tmp_path: Path
) -> None:
    server = rtsp_server_factory({"a": "testsrc", "b": "testsrc", "c": "testsrc"}, fps=10)
    path = tmp_path / "cameras.yaml"
    write(path, camera_yaml("a", server.url("a"), ENTER), camera_yaml("b", server.url("b"), ENTER))
    published: list[object] = []
    engine = Engine(
        load_config(path),
        load_settings(data_dir=tmp_path / "data"),
        published.append,
        detector_factory=lambda _detect, _settings: BlobDetector(),
    )
    reloader = ConfigReloader(path, lambda config, who: engine.apply(config, who).summary(), poll_seconds=0)
    engine.start()
    try:
        workers = engine.workers
        wait_until("both cameras processing", lambda: all(w.processed > 3 for w in workers.values()))

        # 1. a rule change on camera a: nobody reconnects, b's frames keep flowing
        before = threads()
        mark = len(published)
        b_done = workers["b"].processed
        write(
            path,
            camera_yaml("a", server.url("a"), f"{ENTER}\n{LINGER}"),
            camera_yaml("b", server.url("b"), ENTER),
        )
        outcome = reloader.check_file()
        assert outcome is not None and outcome.applied and outcome.who == "file"
        assert outcome.changes == ("camera a: rules added: linger",)
        wait_until("camera a runs the new rule", lambda: len(engine.workers["a"].camera.rules) == 2)
        time.sleep(FLOW_S)
        assert workers["b"].processed > b_done + 5, "camera b stopped getting frames during the reload"
        assert engine.workers == workers  # the same worker objects: nothing restarted
        assert threads() == before  # the same reader, worker and detector threads
        assert not [m for m in published[mark:] if isinstance(m, CameraStatus)]  # no reconnect

        # 2. an invalid file is refused with ioc check's errors; the running config stays
        path.write_text(
            path.read_text(encoding="utf-8").replace("zone: all}", "zone: nowhere}", 1), encoding="utf-8"
        )
        with pytest.raises(ConfigError) as check:
            load_config(path)
        refused = reloader.check_file()
        assert refused is not None and not refused.applied
        assert list(refused.errors) == check.value.errors
        assert len(engine.config.camera("a").rules) == 2
        assert threads() == before

        # 3. a source change reconnects that camera only
        write(path, camera_yaml("a", server.url("a"), ENTER), camera_yaml("b", server.url("c"), ENTER))
        outcome = reloader.check_file()
        assert outcome is not None and outcome.applied
        assert "camera b: source changed (reconnect)" in outcome.changes[-1]
        assert "camera a: rules removed: linger" in outcome.changes[0]
        after = threads()
        assert after["ioc-reader-a"] is before["ioc-reader-a"]
        assert after["ioc-reader-b"] is not before["ioc-reader-b"]
        assert after["ioc-worker-b"] is before["ioc-worker-b"]
        b_done = workers["b"].processed
        wait_until("camera b back on its new source", lambda: workers["b"].processed > b_done + 3)

        # 4. cameras added and removed start and stop
        write(path, camera_yaml("b", server.url("c"), ENTER), camera_yaml("c", server.url("a"), ENTER))
        outcome = reloader.check_file()
        assert outcome is not None and outcome.applied
        assert outcome.changes == ("camera a: removed", "camera c: added")
        wait_until("camera c processing", lambda: engine.workers["c"].processed > 3)
        assert "a" not in engine.workers
        alive = threads()
        assert "ioc-reader-a" not in alive and "ioc-worker-a" not in alive
        assert [s.camera_id for s in engine.camera_statuses()] == ["b", "c"]
        wait_until(
            "camera c online",
            lambda: (status := engine.camera_status("c")) is not None and status.state is CameraState.ONLINE,
        )
    finally:
        engine.stop()
    assert not [name for name in threads() if not name.startswith("ioc-source-")]
    # a reader's source thread is detached on stop and ends at its next read
    wait_until("the source threads to end", lambda: not threads(), seconds=10)
