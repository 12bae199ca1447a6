"""Flow counts as text: the ``flows`` part of ``ioc replay``'s summary.

One block per line_crossing rule: one row per interval (file time in seconds, counts per
direction and class), then the totals. Example::

    flows (count line mid, every 5 s):
      0.0–5.0 s: in person 1 | out —
      5.0–10.0 s: in — | out person 1
      10.0–11.9 s (partial): in — | out —
      total: in person 1 | out person 1
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ioc.messages import FlowBucket, FlowCount

DIRECTIONS = ("in", "out")


def flow_lines(flows: Sequence[FlowCount], start_time: float) -> list[str]:
    """Summary lines for ``flows``; ``start_time`` is the Unix time of the file's first frame."""
    out: list[str] = []
    keys = sorted({(f.rule_id, f.line_id, f.interval_seconds) for f in flows})
    for rule_id, line_id, interval in keys:
        mine = [
            f for f in flows if (f.rule_id, f.line_id, f.interval_seconds) == (rule_id, line_id, interval)
        ]
        out.append(f"flows ({rule_id} line {line_id}, every {interval:g} s):")
        totals: Counter[tuple[str, str]] = Counter()
        for flow in sorted(mine, key=lambda f: f.started_at):
            begin = flow.started_at.timestamp() - start_time
            end = flow.ended_at.timestamp() - start_time
            partial = " (partial)" if flow.partial else ""
            out.append(f"  {begin:.1f}–{end:.1f} s{partial}: {_counts(flow.counts)}")
            totals.update({(b.direction, b.object_class): b.count for b in flow.counts})
        out.append(f"  total: {_totals(totals)}")
    return out


def _counts(buckets: Sequence[FlowBucket]) -> str:
    parts = []
    for direction in DIRECTIONS:
        mine = [b for b in buckets if b.direction == direction]
        text = ", ".join(f"{b.object_class} {b.count}{_speed(b)}" for b in mine) or "—"
        parts.append(f"{direction} {text}")
    return " | ".join(parts)


def _speed(bucket: FlowBucket) -> str:
    return f" ({bucket.mean_speed_kmh:g} km/h)" if bucket.mean_speed_kmh is not None else ""


def _totals(totals: Counter[tuple[str, str]]) -> str:
    parts = []
    for direction in DIRECTIONS:
        mine = sorted((c, n) for (d, c), n in totals.items() if d == direction)
        parts.append(f"{direction} " + (", ".join(f"{c} {n}" for c, n in mine) or "—"))
    return " | ".join(parts)
