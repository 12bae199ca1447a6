"""Fan-out through Redis: alerts published by a worker-side ``RedisBus`` to many ``/ws`` clients of
one API node (the real ``ioc serve --no-engine`` process), delivery latency per message.

A publisher thread sends ``--rate`` alerts/s for ``--seconds`` (each alert's ``updated_at`` is
its publish time); every client records when each alert arrived. The baseline, measured in the
same run on the same API node, is one client at the same rate; the ratio says what fan-out to
``--clients`` costs. Target: p99 ≤ 100 ms at 50 clients × 200 alerts/s.

    .venv/bin/python benchmarks/cluster_fanout.py [--clients 50] [--rate 200] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from websockets.asyncio.client import connect

from ioc.bus.redis_bus import RedisBus
from tests.cluster.conftest import RedisServer
from tests.cluster.processes import Cluster, Node, admin_token
from tests.factories import make_alert


def publish(url: str, rate: float, seconds: float, started: threading.Event) -> int:
    bus = RedisBus(url, None, node="bench-worker", consume=False)
    started.wait()
    n = 0
    t0 = time.monotonic()
    try:
        total = int(rate * seconds)
        while n < total:
            due = min(int((time.monotonic() - t0) * rate) + 1, total)
            while n < due:
                now = datetime.now(UTC)
                bus.send(make_alert(n, started_at=now, updated_at=now), delivery=None)
                n += 1
            time.sleep(0.002)
    finally:
        bus.close()
    return n


async def client(port: int, token: str, expected: int, out: list[float], ready: asyncio.Event) -> None:
    async with connect(f"ws://127.0.0.1:{port}/ws?token={token}", max_queue=None) as ws:
        await ws.recv()  # welcome
        ready.set()
        got = 0
        deadline = time.monotonic() + expected / 10 + 30  # generous: the publisher takes expected/rate
        while got < expected:
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=max(deadline - time.monotonic(), 0.01))
            except TimeoutError:
                print(f"  a client gave up after {got} of {expected} alerts")
                return
            arrived = time.time()
            message = json.loads(raw)
            if message.get("type") != "alert":
                continue
            sent = datetime.fromisoformat(message["updated_at"]).timestamp()
            out.append(arrived - sent)
            got += 1


async def measure(
    api: Node, token: str, redis_url: str, clients: int, rate: float, seconds: float
) -> list[float]:
    expected = int(rate * seconds)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    ready = [asyncio.Event() for _ in range(clients)]
    tasks = [
        asyncio.create_task(client(api.port, token, expected, latencies[i], ready[i])) for i in range(clients)
    ]
    await asyncio.gather(*(r.wait() for r in ready))
    go = threading.Event()
    publisher = asyncio.create_task(asyncio.to_thread(publish, redis_url, rate, seconds, go))
    go.set()
    sent = await publisher
    await asyncio.gather(*tasks)
    received = sum(len(x) for x in latencies)
    print(f"  {clients} clients: sent {sent}, received {received} of {sent * clients}")
    return [v for x in latencies for v in x]


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else float("nan")


def run(clients: int, rate: float, seconds: float, pg_url: str) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        redis_server = RedisServer(tmp)
        redis_server.start()
        schema = f"ioc_bench_{uuid.uuid4().hex[:8]}"
        admin = psycopg.connect(pg_url, autocommit=True)
        admin.execute(f"CREATE SCHEMA {schema}")
        config = tmp / "absent.yaml"
        cluster = Cluster(tmp, redis_server.url, f"{pg_url}?options=-csearch_path%3D{schema}", config, 10)
        try:
            api = cluster.api()
            token = admin_token(api)
            rows = []
            for n in (1, clients):
                values = asyncio.run(measure(api, token, redis_server.url, n, rate, seconds))
                rows.append((n, _p(values, 50), _p(values, 99)))
            for n, p50, p99 in rows:
                print(
                    f"{n:3} clients x {rate:g} alerts/s: p50 {p50 * 1000:7.1f} ms, p99 {p99 * 1000:7.1f} ms"
                )
            print(f"p99 ratio {clients} clients / 1 client: {rows[1][2] / rows[0][2]:.1f}x")
            print(f"p99 at {clients} clients vs target 100 ms: {rows[1][2] / 0.1:.2f}")
        finally:
            cluster.stop()
            redis_server.stop()
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
            admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--database-url", default="postgresql://127.0.0.1:5432/test")
    args = parser.parse_args()
    run(args.clients, args.rate, args.seconds, args.database_url)


if __name__ == "__main__":
    main()
