"""The config watch and the API's submit: validated like ``ioc check``, refused versions change
nothing and are reported once, accepted ones are applied once with who changed them."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from ioc.config.loader import ConfigError, load_config
from ioc.config.models import IocConfig
from ioc.config.reload import ConfigReloader

GOOD = "cameras:\n  - id: gate\n    source: gate.mp4\n"
OTHER = "cameras:\n  - id: gate\n    source: other.mp4\n"
BAD = "cameras:\n  - id: gate\n    sourze: gate.mp4\n"


class Recorder:
    """The reloader's ``apply``: records what it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, config: IocConfig, who: str) -> list[str]:
        self.calls.append((config.cameras[0].source, who))
        return [f"source {config.cameras[0].source}"]


def save(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a later mtime, always


def _reloads(result: str) -> float:
    return REGISTRY.get_sample_value("ioc_config_reloads_total", {"result": result}) or 0.0


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Recorder, ConfigReloader]:
    path = tmp_path / "cameras.yaml"
    path.write_text(GOOD, encoding="utf-8")
    recorder = Recorder()
    return path, recorder, ConfigReloader(path, recorder, poll_seconds=0)


def test_an_unchanged_file_is_not_reloaded(setup: tuple[Path, Recorder, ConfigReloader]) -> None:
    path, recorder, reloader = setup
    assert reloader.check_file() is None
    save(path, GOOD)  # saved again, same content
    assert reloader.check_file() is None
    assert recorder.calls == []


def test_a_changed_file_is_applied_once_as_file(setup: tuple[Path, Recorder, ConfigReloader]) -> None:
    path, recorder, reloader = setup
    seen: list[IocConfig] = []
    reloader.on_applied(seen.append)
    save(path, OTHER)
    outcome = reloader.check_file()
    assert outcome is not None and outcome.applied
    assert (outcome.who, outcome.changes) == ("file", ("source other.mp4",))
    assert reloader.check_file() is None
    assert recorder.calls == [("other.mp4", "file")]
    assert [c.cameras[0].source for c in seen] == ["other.mp4"]


def test_an_invalid_file_is_refused_with_ioc_checks_errors_once(
    setup: tuple[Path, Recorder, ConfigReloader], caplog: pytest.LogCaptureFixture
) -> None:
    path, recorder, reloader = setup
    caplog.set_level(logging.ERROR, logger="ioc.config.reload")
    refused_before = _reloads("refused")
    save(path, BAD)
    with pytest.raises(ConfigError) as check:
        load_config(path)
    outcome = reloader.check_file()
    assert outcome is not None and not outcome.applied
    assert list(outcome.errors) == check.value.errors
    assert "refused; the running config stays" in caplog.text
    assert check.value.errors[0] in caplog.text
    assert _reloads("refused") == refused_before + 1
    save(path, BAD)  # touched again, same content: not reported again
    assert reloader.check_file() is None
    save(path, OTHER)
    fixed = reloader.check_file()
    assert fixed is not None and fixed.applied
    assert recorder.calls == [("other.mp4", "file")]


def test_a_failing_apply_is_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "cameras.yaml"
    path.write_text(GOOD, encoding="utf-8")

    def broken(_config: IocConfig, _who: str) -> list[str]:
        raise RuntimeError("model 'nope' not found")

    reloader = ConfigReloader(path, broken, poll_seconds=0)
    save(path, OTHER)
    outcome = reloader.check_file()
    assert outcome is not None and not outcome.applied
    assert outcome.errors == ("RuntimeError: model 'nope' not found",)


def test_submit_saves_then_applies_and_the_watch_does_not_apply_it_again(
    setup: tuple[Path, Recorder, ConfigReloader],
) -> None:
    path, recorder, reloader = setup
    config = IocConfig.model_validate({"cameras": [{"id": "gate", "source": "other.mp4"}]})
    outcome = reloader.submit(OTHER, config, "admin", lambda p, text: p.write_text(text, encoding="utf-8"))
    assert outcome.applied and outcome.who == "admin"
    assert path.read_text(encoding="utf-8") == OTHER
    assert reloader.check_file() is None
    assert recorder.calls == [("other.mp4", "admin")]


def test_the_watch_thread_picks_up_a_save(tmp_path: Path) -> None:
    path = tmp_path / "cameras.yaml"
    path.write_text(GOOD, encoding="utf-8")
    recorder = Recorder()
    reloader = ConfigReloader(path, recorder, poll_seconds=0.05)
    reloader.start()
    try:
        save(path, OTHER)
        deadline = time.monotonic() + 10
        while not recorder.calls:
            assert time.monotonic() < deadline, "the watch did not reload the saved file"
            time.sleep(0.02)
    finally:
        reloader.stop()
    assert recorder.calls == [("other.mp4", "file")]
