"""Failover time of a camera when its worker goes away: a crash (kill -9) against a clean stop
(SIGTERM: the worker gives its leases back), measured in the same run on the same cluster.

One API node (``ioc serve --no-engine``), two workers (``tests.cluster.worker_proc``: the real
``run_worker`` with the blob detector, so the model's load time is not what is measured), a
private ``redis-server``, a fresh PostgreSQL schema and two looping file cameras. Each trial stops
the worker that holds camera ``east`` and measures, from that moment:

- ``moved``: until the other worker's ``/healthz`` lists ``east`` (lease taken, camera started);
- ``alert``: until the next ``east`` alert reaches a ``/ws`` client (the camera works again).

Then the stopped worker is started again and the cameras rebalance before the next trial.
Prints each trial, the medians, and the crash/clean ratio (target: crash ≤ lease + 5 s).

    .venv/bin/python benchmarks/cluster_failover.py [--trials 3] [--lease-seconds 10]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from tests.cluster.conftest import RedisServer
from tests.cluster.processes import Cluster, Node, WsClient, admin_token, eventually, write_config
from tests.ingest.clips import write_clip

CAMERA = "east"


def _holder(workers: dict[str, Node]) -> str | None:
    for name, node in workers.items():
        if CAMERA in node.health().get("cameras", {}):
            return name
    return None


def _balanced(workers: dict[str, Node]) -> bool:
    held = [len(w.health().get("cameras", {})) for w in workers.values()]
    return held == [1, 1]


def trial(cluster: Cluster, workers: dict[str, Node], ws: WsClient, crash: bool) -> tuple[float, float]:
    eventually(lambda: _balanced(workers), 60, "one camera per worker")
    victim = _holder(workers)
    assert victim is not None
    survivor = next(n for n in workers if n != victim)
    seen = len(ws.snapshot())
    t0 = time.monotonic()
    if crash:
        workers[victim].kill()
    else:
        workers[victim].process.send_signal(signal.SIGTERM)
    eventually(lambda: CAMERA in workers[survivor].health().get("cameras", {}), 60, "takeover")
    moved = time.monotonic() - t0
    eventually(lambda: any(a["camera_id"] == CAMERA for a in ws.snapshot()[seen:]), 60, "next alert")
    alert = time.monotonic() - t0
    workers[victim].stop()
    workers[victim] = cluster.worker(victim)
    return moved, alert


def run(trials: int, lease_seconds: float, pg_url: str) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        redis_server = RedisServer(tmp)
        redis_server.start()
        schema = f"ioc_bench_{uuid.uuid4().hex[:8]}"
        admin = psycopg.connect(pg_url, autocommit=True)
        admin.execute(f"CREATE SCHEMA {schema}")
        clip = write_clip(tmp / "sweep.mp4", frames=60)
        config = write_config(tmp / "cameras.yaml", clip)
        cluster = Cluster(
            tmp, redis_server.url, f"{pg_url}?options=-csearch_path%3D{schema}", config, lease_seconds
        )
        try:
            api = cluster.api()
            ws = WsClient(api, admin_token(api))
            workers = {name: cluster.worker(name) for name in ("w1", "w2")}
            results: dict[str, list[tuple[float, float]]] = {"clean": [], "crash": []}
            for n in range(trials):
                for kind in ("clean", "crash"):
                    moved, alert = trial(cluster, workers, ws, crash=kind == "crash")
                    results[kind].append((moved, alert))
                    print(f"trial {n + 1} {kind:5}: moved after {moved:5.1f} s, next alert {alert:5.1f} s")
            ws.close()
            _report(results, lease_seconds)
        finally:
            cluster.stop()
            redis_server.stop()
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
            admin.close()


def _report(results: dict[str, list[tuple[float, float]]], lease_seconds: float) -> None:
    med = {
        k: (statistics.median(m for m, _ in v), statistics.median(a for _, a in v))
        for k, v in results.items()
    }
    for kind, (moved, alert) in med.items():
        print(f"median {kind:5}: moved {moved:5.1f} s, next alert {alert:5.1f} s")
    crash_alert, clean_alert = med["crash"][1], med["clean"][1]
    print(f"crash / clean (next alert): {crash_alert / clean_alert:.1f}x")
    target = lease_seconds + 5
    print(f"crash next alert vs target lease + 5 s = {target:g} s: {crash_alert / target:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--lease-seconds", type=float, default=10.0)
    parser.add_argument("--database-url", default="postgresql://127.0.0.1:5432/test")
    args = parser.parse_args()
    run(args.trials, args.lease_seconds, args.database_url)


if __name__ == "__main__":
    main()
