"""WireCache: the same message object is encoded once, an equal but distinct one is not mistaken
for it, the oldest entries go first, and the text is exactly the wire model's JSON."""

from __future__ import annotations

from unittest import mock

import pytest

from ioc.api.wire_cache import WireCache
from ioc.messages import Alert
from tests.factories import make_alert, make_kpi


def test_the_same_object_is_encoded_once() -> None:
    cache = WireCache()
    alert = make_alert(1)
    with mock.patch.object(Alert, "model_dump_json", autospec=True, side_effect=lambda m: f"#{m.id}") as dump:
        texts = {cache.text(alert) for _ in range(50)}
    assert texts == {f"#{alert.id}"} and dump.call_count == 1


@pytest.mark.parametrize("message", [make_alert(7), make_kpi()])
def test_text_is_the_wire_json(message: object) -> None:
    assert WireCache().text(message) == message.model_dump_json()  # type: ignore[arg-type,attr-defined]


def test_an_equal_but_distinct_object_gets_its_own_text() -> None:
    cache = WireCache()
    first = make_alert(1)
    second = first.model_copy(update={"seq": 2})
    assert cache.text(first) != cache.text(second)
    assert '"seq":2' in cache.text(second)


def test_oldest_entries_are_dropped_beyond_the_size() -> None:
    cache = WireCache(size=3)
    alerts = [make_alert(n) for n in range(5)]
    for alert in alerts:
        cache.text(alert)
    assert len(cache) == 3
    with mock.patch.object(Alert, "model_dump_json", autospec=True, return_value="x") as dump:
        cache.text(alerts[4])  # still cached
        cache.text(alerts[0])  # dropped: encoded again
    assert dump.call_count == 1


def test_a_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="size: expected ≥ 1, got 0"):
        WireCache(size=0)
