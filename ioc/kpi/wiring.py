"""Start-up of the KPI side for ``ioc serve``: read kpi.yaml, build the service and its threads.

Steps: load ``kpi.yaml`` (absent: no KPI sources, only the operations KPIs; broken: ``ioc serve``
refuses to start and prints every error with its line), take the time zone (``timezone`` in
kpi.yaml, else ``site.timezone`` of cameras.yaml), build the :class:`KpiService`, then one
thread per pull source, the demo feed when ``demo: true``, and the refresher (snapshots and
overdue alerts). ``ioc serve`` starts them after the API listens and stops them in reverse.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ioc.config.kpi_loader import load_kpi_config
from ioc.config.kpi_models import KpiConfig, PullSource
from ioc.config.models import IocConfig
from ioc.kpi.demo import CENTRE, DemoFeed
from ioc.kpi.pull import CursorStore, PullConnector
from ioc.kpi.service import KpiRefresher, KpiService, KpiStore
from ioc.periodic import PeriodicThread

logger = logging.getLogger(__name__)
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


class KpiBackend(KpiStore, CursorStore):
    """The store as the KPI side uses it (the SQL store is one)."""


def load_optional_kpi_config(path: Path) -> KpiConfig | None:
    """The validated kpi.yaml, or None when the file does not exist (``ConfigError`` if broken)."""
    if not path.exists():
        logger.info("no KPI config at %s: public-service KPIs are off", path)
        return None
    return load_kpi_config(path)


def site_centre(cameras: IocConfig | None) -> tuple[float, float]:
    """Where demo reports are placed: site.map_center, else the cameras' centroid, else a default."""
    if cameras is None:
        return CENTRE
    if cameras.site.map_center is not None:
        return (cameras.site.map_center.lat, cameras.site.map_center.lon)
    spots = [c.location for c in cameras.cameras if c.location is not None]
    if not spots:
        return CENTRE
    return (sum(s.lat for s in spots) / len(spots), sum(s.lon for s in spots) / len(spots))


def build_kpi(
    config: KpiConfig, cameras: IocConfig | None, store: Any, publish: Callable[[Any], object]
) -> tuple[KpiService, list[PeriodicThread]]:
    """The service the API reads and the threads to run, in start order."""
    zone = config.timezone or (cameras.site.timezone if cameras is not None else DEFAULT_TIMEZONE)
    service = KpiService(config, config.working_hours.calendar(zone), store)
    threads: list[PeriodicThread] = [
        PullConnector(s, store) for s in config.sources if isinstance(s, PullSource)
    ]
    if config.demo:
        demo = DemoFeed(store, service.calendar, centre=site_centre(cameras))
        demo.run_once()  # the back-fill, before the first snapshot, so the wall starts populated
        threads.append(demo)
    threads.append(KpiRefresher(service, publish))
    return service, threads
