"""Capped exponential backoff with jitter."""

from __future__ import annotations

import pytest

from ioc.ingest import Backoff


@pytest.mark.parametrize(
    ("initial", "maximum", "expected"),
    [
        (0.5, 30.0, [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]),
        (0.5, 1.0, [0.5, 1.0, 1.0, 1.0]),
        (2.0, 2.0, [2.0, 2.0, 2.0]),
    ],
)
def test_delays_double_up_to_the_cap(initial: float, maximum: float, expected: list[float]) -> None:
    backoff = Backoff(initial, maximum, jitter=0.0)
    assert [backoff.next_delay() for _ in expected] == pytest.approx(expected)
    assert backoff.attempt == len(expected)


def test_jitter_stretches_by_at_most_the_fraction_and_never_passes_the_cap() -> None:
    backoff = Backoff(1.0, 10.0, jitter=0.1, seed=3)
    delays = [backoff.next_delay() for _ in range(200)]
    bases = [min(10.0, 2.0**i) for i in range(200)]
    assert all(b <= d <= min(b * 1.1, 10.0) for d, b in zip(delays, bases, strict=True))
    assert len({round(d, 6) for d in delays[:3]}) == 3


def test_reset_starts_small_again() -> None:
    backoff = Backoff(0.5, 30.0, jitter=0.0)
    for _ in range(6):
        backoff.next_delay()
    backoff.reset()
    assert backoff.attempt == 0
    assert backoff.next_delay() == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("initial", "maximum", "jitter", "message"),
    [
        (0.0, 1.0, 0.1, "initial delay must be > 0 s, got 0.0"),
        (2.0, 1.0, 0.1, r"max delay \(1.0 s\) must be >= the initial delay \(2.0 s\)"),
        (0.5, 1.0, 1.5, r"jitter must be a fraction in \[0, 1\], got 1.5"),
    ],
)
def test_bad_settings_are_refused(initial: float, maximum: float, jitter: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Backoff(initial, maximum, jitter=jitter)
