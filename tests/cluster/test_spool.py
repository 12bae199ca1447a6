"""The worker's outbox and disk spool: order kept, bounded, counted, survives a restart."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from ioc.bus.base import Message
from ioc.cluster.spool import DiskSpool, Envelope, Outbox, SendFailedError
from tests.factories import make_alert, make_camera_status


class Link:
    """A send function whose link to Redis can be cut (a real interface of the outbox)."""

    def __init__(self) -> None:
        self.up = True
        self.sent: list[Envelope] = []
        self.lock = threading.Lock()

    def __call__(self, envelope: Envelope) -> None:
        if not self.up:
            raise SendFailedError("connection refused")
        with self.lock:
            self.sent.append(envelope)


def _eventually(condition: object, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


def _metric(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def test_messages_wait_on_disk_while_the_link_is_down_and_go_out_in_order(tmp_path: Path) -> None:
    link = Link()
    outbox = Outbox(link, DiskSpool(tmp_path / "w.jsonl", 100), retry_seconds=0.05)
    outbox.start()
    messages: list[Message] = [make_alert(n) for n in range(10)]
    try:
        outbox.put(Envelope.new(messages[0], 7))
        assert _eventually(lambda: len(link.sent) == 1)
        link.up = False
        for m in messages[1:6]:
            outbox.put(Envelope.new(m, 7))
        assert _eventually(lambda: outbox.spooled == 5)
        assert outbox.wait_sent(timeout=0.1) is False  # what a worker handing a camera over waits for
        assert len((tmp_path / "w.jsonl").read_text().splitlines()) == 5
        link.up = True
        for m in messages[6:]:
            outbox.put(Envelope.new(m, 7))
        assert outbox.wait_sent(timeout=5.0) is True
        assert len(link.sent) == 10
    finally:
        outbox.stop()
    assert [e.message for e in link.sent] == messages
    assert {e.fence for e in link.sent} == {7}
    assert (tmp_path / "w.jsonl").read_text() == ""


def test_a_full_spool_drops_new_messages_and_counts_them(tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path / "w.jsonl", 3)
    dropped = _metric("ioc_spool_dropped_total")
    results = [spool.append(Envelope.new(make_alert(n), None)) for n in range(5)]
    assert results == [True, True, True, False, False]
    assert _metric("ioc_spool_dropped_total") == dropped + 2
    assert _metric("ioc_spool_messages") == 3


def test_a_restarted_worker_sends_the_spool_from_before_first(tmp_path: Path) -> None:
    path = tmp_path / "w.jsonl"
    down = Link()
    down.up = False
    first = Outbox(down, DiskSpool(path, 100), retry_seconds=0.05)
    first.start()
    before = [Envelope.new(make_alert(n), 3) for n in range(3)] + [Envelope.new(make_camera_status(), 3)]
    for e in before:
        first.put(e)
    assert _eventually(lambda: first.spooled == 4)
    first.stop(drain_seconds=0.1)
    path.write_text(path.read_text() + "not json\n")  # a torn last line (power cut) is skipped

    up = Link()
    second = Outbox(up, DiskSpool(path, 100), retry_seconds=0.05)
    second.start()
    after = Envelope.new(make_alert(9), 4)
    second.put(after)
    try:
        assert _eventually(lambda: len(up.sent) == 5)
    finally:
        second.stop()
    assert up.sent == [*before, after]  # same delivery ids: Redis stores a resend once


@pytest.mark.parametrize("message", [make_alert(1), make_camera_status()], ids=["alert", "status"])
def test_envelopes_round_trip_through_a_line(message: Message) -> None:
    envelope = Envelope.new(message, 1_700_000_000_000)
    assert Envelope.from_line(envelope.to_line()) == envelope
