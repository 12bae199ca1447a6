"""Memory of one ``ioc worker`` by the number of cameras it runs (RSS, threads, open files).

For each camera count N, one worker process (``tests.cluster.worker_proc``: the real
``run_worker`` with the blob detector, so the model's own memory is not in the figures) runs N
looping 320x240 file cameras next to one API node, a private ``redis-server`` and a fresh
PostgreSQL schema. After ``--settle`` seconds the worker's RSS, thread count and open files are
read, then again ``--seconds`` later (growth). The baseline is the same worker with one camera:
each row prints its RSS ratio to it and the RSS added per extra camera.

    .venv/bin/python benchmarks/worker_memory.py [--cameras 1 2 4 8] [--settle 15] [--seconds 15]

A soak is the same with one camera count, a long ``--seconds`` and ``--every`` to print the worker's
and the API node's figures along the way (does RSS level off or keep growing?):

    .venv/bin/python benchmarks/worker_memory.py --cameras 8 --settle 60 --seconds 1800 --every 120
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg

from tests.cluster.conftest import RedisServer
from tests.cluster.processes import Cluster, eventually
from tests.ingest.clips import write_clip


@dataclass(frozen=True)
class Sample:
    rss_mb: float
    threads: int
    files: int


def _sample(pid: int) -> Sample:
    proc = psutil.Process(pid)
    return Sample(proc.memory_info().rss / 2**20, proc.num_threads(), proc.num_fds())


def _config(path: Path, clip: Path, cameras: int) -> Path:
    body = "cameras:\n" + "".join(
        f"  - id: cam{i}\n    source: {clip}\n    detect: {{fps: 5, classes: [person]}}\n"
        "    zones: [{id: right, polygon: [[0.5, 0], [1, 0], [1, 1], [0.5, 1]]}]\n"
        "    rules: [{id: enter, type: intrusion, zone: right}]\n"
        for i in range(cameras)
    )
    path.write_text(body, encoding="utf-8")
    return path


def measure(
    tmp: Path,
    redis_url: str,
    pg_url: str,
    clip: Path,
    cameras: int,
    settle: float,
    seconds: float,
    every: float | None = None,
) -> tuple[Sample, Sample]:
    config = _config(tmp / f"cameras-{cameras}.yaml", clip, cameras)
    cluster = Cluster(tmp / f"run-{cameras}", redis_url, pg_url, config, 10)
    (tmp / f"run-{cameras}").mkdir()
    try:
        api = cluster.api(f"api-{cameras}")
        worker = cluster.worker(f"w-{cameras}")
        eventually(
            lambda: len(worker.health().get("cameras", {})) == cameras, 60, f"{cameras} cameras leased"
        )
        time.sleep(settle)
        first = _sample(worker.process.pid)
        start = time.monotonic()
        if every:
            _progress(0.0, first, _sample(api.process.pid), first)
            while time.monotonic() - start + every < seconds:
                time.sleep(every)
                now = _sample(worker.process.pid)
                _progress(time.monotonic() - start, now, _sample(api.process.pid), first)
        time.sleep(max(0.0, seconds - (time.monotonic() - start)))
        return first, _sample(worker.process.pid)
    finally:
        cluster.stop()


def _progress(elapsed: float, worker: Sample, api: Sample, first: Sample) -> None:
    growth = (worker.rss_mb / first.rss_mb - 1.0) * 100.0
    print(f"  {elapsed / 60:5.1f} min: worker RSS {worker.rss_mb:6.1f} MB ({growth:+.1f} %), "
          f"threads {worker.threads}, open files {worker.files}; API node RSS {api.rss_mb:6.1f} MB, "
          f"threads {api.threads}, open files {api.files}", flush=True)  # fmt: skip


def run(counts: list[int], settle: float, seconds: float, pg_url: str, every: float | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        redis_server = RedisServer(tmp)
        redis_server.start()
        admin = psycopg.connect(pg_url, autocommit=True)
        clip = write_clip(tmp / "sweep.mp4", frames=60)
        rows: list[tuple[int, Sample, Sample]] = []
        try:
            for n in counts:
                schema = f"ioc_bench_{uuid.uuid4().hex[:8]}"
                admin.execute(f"CREATE SCHEMA {schema}")
                try:
                    url = f"{pg_url}?options=-csearch_path%3D{schema}"
                    first, last = measure(tmp, redis_server.url, url, clip, n, settle, seconds, every)
                finally:
                    admin.execute(f"DROP SCHEMA {schema} CASCADE")
                rows.append((n, first, last))
                growth = (last.rss_mb / first.rss_mb - 1.0) * 100.0
                rss = f"RSS {first.rss_mb:6.1f} MB → {last.rss_mb:6.1f} MB ({growth:+.1f} %)"
                rss += f" after {seconds:g} s"
                print(f"{n:3} cameras: {rss}, threads {first.threads} → {last.threads}, "
                      f"open files {first.files} → {last.files}")  # fmt: skip
        finally:
            redis_server.stop()
            admin.close()
        base_n, base, _ = rows[0]
        for n, first, _ in rows[1:]:
            per_camera = (first.rss_mb - base.rss_mb) / (n - base_n)
            ratio = first.rss_mb / base.rss_mb
            print(f"{n} cameras vs {base_n}: RSS x{ratio:.2f}, +{per_camera:.1f} MB per extra camera")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--settle", type=float, default=15.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--database-url", default="postgresql://127.0.0.1:5432/test")
    parser.add_argument("--every", type=float, default=None, help="also print figures every N seconds")
    args = parser.parse_args()
    run(args.cameras, args.settle, args.seconds, args.database_url, args.every)


if __name__ == "__main__":
    main()
