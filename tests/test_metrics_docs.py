"""The README's metric list and the Grafana dashboard name only metrics ioc declares, and the
README lists every one of them."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client import REGISTRY

import ioc.metrics  # noqa: F401  (declares the metrics)

ROOT = Path(__file__).resolve().parents[1]
NAME = re.compile(r"\bioc_[a-z_]+")


def _declared() -> set[str]:
    names = set()
    for metric in REGISTRY.collect():
        if metric.name.startswith("ioc_"):
            names.add(metric.name + "_total" if metric.type == "counter" else metric.name)
    return names


def _base(name: str) -> str:
    for suffix in ("_bucket", "_sum", "_count", "_created"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def test_readme_lists_every_metric_and_nothing_else() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Metrics") :]
    section = section[: section.index("\n## ", 4)]
    mentioned = set(NAME.findall(section))
    assert mentioned == _declared()


def test_grafana_dashboard_uses_declared_metrics() -> None:
    text = (ROOT / "docs" / "grafana-dashboard.json").read_text(encoding="utf-8")
    used = {_base(n) for n in NAME.findall(text)}
    assert used, "the dashboard queries no ioc metric"
    assert used <= _declared()
