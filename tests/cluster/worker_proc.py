"""``ioc worker`` as its own process for the cluster tests, with the tests' real tiny detector
(``BlobDetector``) in place of the model: ``python -m tests.cluster.worker_proc`` reads the same
``IOC_*`` settings as ``ioc worker`` and runs the same ``run_worker``."""

from __future__ import annotations

import logging
import sys

from ioc.app.worker import run_worker
from ioc.cli import offline_environment
from ioc.config.loader import load_config
from ioc.settings import load_settings
from tests.factories import BlobDetector


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    offline_environment()
    settings = load_settings()
    return run_worker(
        settings, load_config(settings.config_path), detector_factory=lambda _d, _s: BlobDetector()
    )


if __name__ == "__main__":
    sys.exit(main())
