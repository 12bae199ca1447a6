"""Fan-out through Redis: alerts published by a worker-side ``RedisBus`` to many ``/ws`` clients of
one API node (the real ``ioc serve --no-engine`` process), delivery latency per message.

A publisher thread sends ``--rate`` alerts/s for ``--seconds`` (each alert's ``updated_at`` is
its publish time); every client records when each alert arrived. The clients run in
``--client-procs`` separate processes (not in the benchmark's own process), but on the same
machine: they share its cores with the API node, Redis and PostgreSQL. They are light frame
readers (the upgrade, then frames parsed off the socket, permessage-deflate offered as browsers
do); ``--library-clients`` uses the ``websockets`` library's client instead, which costs the
shared cores more. The baseline, measured in
the same run on the same API node, is one client at the same rate; the ratio says what fan-out to
``--clients`` costs. Target: p99 ≤ 100 ms at 50 clients × 200 alerts/s.

``--variant LABEL=SPEC`` (repeatable) measures several API nodes in one run, one after the other,
``--rounds`` times interleaved: SPEC is a comma-separated list of ``repo:DIR`` (run the API node
from another checkout, e.g. the code before a change) and ``IOC_…=VALUE`` settings, e.g.
``--variant before=repo:/tmp/ioc-base --variant after --variant deflate=IOC_WS_COMPRESSION=true``.
Each variant's API node runs alone (the others are stopped) and the CPU seconds it used during the
measurement are printed beside the latencies.

    .venv/bin/python benchmarks/cluster_fanout.py [--clients 50] [--rate 200] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing as mp
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from websockets.asyncio.client import connect

from ioc.bus.redis_bus import RedisBus
from tests.cluster.conftest import RedisServer, free_port
from tests.cluster.processes import REPO, Cluster, Node, eventually
from tests.factories import make_alert

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Variant:
    """One API node setup: the checkout it runs from and extra ``IOC_`` settings."""

    label: str
    repo: Path = REPO
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Variant:
        label, _, spec = text.partition("=")
        repo, env = REPO, {}
        for item in filter(None, (s.strip() for s in spec.split(","))):
            if item.startswith("repo:"):
                repo = Path(item[5:]).resolve()
                if not (repo / "ioc" / "cli.py").is_file():
                    raise SystemExit(f"--variant {label}: {repo} is not an ioc checkout (no ioc/cli.py)")
            elif re.fullmatch(r"IOC_[A-Z0-9_]+=.*", item):
                key, _, value = item.partition("=")
                env[key] = value
            else:
                raise SystemExit(f"--variant {label}: expected repo:DIR or IOC_NAME=VALUE, got {item!r}")
        return cls(label or "current", repo, env)


@dataclass(frozen=True, slots=True)
class Result:
    label: str
    clients: int
    latencies: list[float]
    expected: int
    api_cpu_s: tuple[float, float]
    clients_cpu_s: float


# -- clients (in their own processes) --------------------------------------------------------------
class FrameReader(asyncio.Protocol):
    """A light ``/ws`` client, so that 50 of them cost the shared cores little: the HTTP upgrade,
    then the server's frames parsed straight off the socket. A message's arrival time is when its
    bytes arrived. Offers permessage-deflate like a browser does (and inflates when the server
    takes it), answers the server's pings, sends nothing else."""

    def __init__(self, request: bytes, expected: int) -> None:
        loop = asyncio.get_running_loop()
        self.request, self.expected = request, expected
        self.welcomed: asyncio.Future[None] = loop.create_future()
        self.done: asyncio.Future[None] = loop.create_future()
        self.out: list[float] = []
        self._buf = bytearray()
        self._upgraded = False
        self._inflate: Any = None  # zlib decompressor when the server compresses
        self._fresh_inflate = False  # server_no_context_takeover: a new decompressor per message
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        for future in (self.welcomed, self.done):
            if not future.done():
                future.set_exception(ConnectionError(f"closed after {len(self.out)} alerts: {exc}"))

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self._buf += data
        if not self._upgraded and not self._upgrade():
            return
        pos = 0
        while (frame := self._frame(pos)) is not None:
            pos, first, payload = frame
            self._handle(first, payload, now)
        del self._buf[:pos]

    def _upgrade(self) -> bool:
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self._buf[:end]).decode("latin-1").lower()
        del self._buf[: end + 4]
        if not head.startswith("http/1.1 101"):
            raise ConnectionError(f"upgrade refused: {head.splitlines()[0]}")
        if "permessage-deflate" in head:
            self._inflate = zlib.decompressobj(-15)
            self._fresh_inflate = "server_no_context_takeover" in head
        self._upgraded = True
        return True

    def _frame(self, pos: int) -> tuple[int, int, bytes] | None:
        """(end, first byte, payload) of the frame at ``pos``, or None until it is all here."""
        buf = self._buf
        if len(buf) - pos < 2:
            return None
        length, head = buf[pos + 1] & 0x7F, 2
        if length == 126:
            if len(buf) - pos < 4:
                return None
            length, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
        elif length == 127:
            if len(buf) - pos < 10:
                return None
            length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
        end = pos + head + length
        if len(buf) < end:
            return None
        return end, buf[pos], bytes(buf[pos + head : end])

    def _handle(self, first: int, payload: bytes, now: float) -> None:
        opcode = first & 0x0F
        if opcode == 0x9:  # ping: a masked pong (zero mask) with the same payload
            assert self.transport is not None and len(payload) < 126
            self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
        elif opcode == 0x8 and self.transport is not None:
            self.transport.close()
        elif opcode == 0x1:
            if first & 0x40:  # RSV1: compressed
                if self._fresh_inflate:
                    self._inflate = zlib.decompressobj(-15)
                payload = self._inflate.decompress(payload + b"\0\0\xff\xff")
            self._text(payload, now)
        else:
            raise ConnectionError(f"unexpected frame opcode {opcode}")

    def _text(self, payload: bytes, now: float) -> None:
        if not self.welcomed.done():
            self.welcomed.set_result(None)
            return
        message = json.loads(payload)
        if message.get("type") != "alert" or self.done.done():
            return
        self.out.append(now - datetime.fromisoformat(message["updated_at"]).timestamp())
        if len(self.out) == self.expected:
            self.done.set_result(None)


async def _light_client(port: int, token: str, expected: int, ready: asyncio.Event) -> list[float]:
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /ws?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    reader = FrameReader(request, expected)
    transport, _ = await loop.create_connection(lambda: reader, "127.0.0.1", port)
    try:
        await asyncio.wait_for(reader.welcomed, 30)
        ready.set()
        try:
            await asyncio.wait_for(reader.done, expected / 10 + 30)  # the publisher takes expected/rate
        except (TimeoutError, ConnectionError) as exc:
            print(f"  a client gave up after {len(reader.out)} of {expected} alerts: {exc!r}", flush=True)
    finally:
        transport.close()
    return reader.out


async def _library_client(port: int, token: str, expected: int, ready: asyncio.Event) -> list[float]:
    """The same measurement through the ``websockets`` library's client (costs the cores more)."""
    out: list[float] = []
    async with connect(f"ws://127.0.0.1:{port}/ws?token={token}", max_queue=None) as ws:
        await ws.recv()  # welcome
        ready.set()
        deadline = time.monotonic() + expected / 10 + 30  # generous: the publisher takes expected/rate
        while len(out) < expected:
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=max(deadline - time.monotonic(), 0.01))
            except TimeoutError:
                print(f"  a client gave up after {len(out)} of {expected} alerts", flush=True)
                break
            arrived = time.time()
            message = json.loads(raw)
            if message.get("type") != "alert":
                continue
            out.append(arrived - datetime.fromisoformat(message["updated_at"]).timestamp())
    return out


async def _clients(
    port: int, token: str, count: int, expected: int, library: bool, ready: Any
) -> tuple[list[float], float]:
    client = _library_client if library else _light_client
    events = [asyncio.Event() for _ in range(count)]
    tasks = [asyncio.create_task(client(port, token, expected, e)) for e in events]
    await asyncio.gather(*(e.wait() for e in events))
    cpu_before = _cpu()
    ready.put(count)
    values = [v for values in await asyncio.gather(*tasks) for v in values]
    return values, _cpu() - cpu_before


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


def client_process(
    port: int, token: str, count: int, expected: int, library: bool, ready: Any, results: Any
) -> None:
    """``count`` clients on one event loop; puts their latencies, and the CPU seconds the process
    used from the moment they were connected, on ``results``."""
    results.put(asyncio.run(_clients(port, token, count, expected, library, ready)))


# -- the API node and the publisher ---------------------------------------------------------------
def publish(url: str, rate: float, seconds: float) -> int:
    bus = RedisBus(url, None, node="bench-worker", consume=False)
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


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS  # utime, stime


def start_api(cluster: Cluster, variant: Variant, index: int) -> Node:
    port = free_port()
    name = f"api-{index}"
    env = {**cluster.env, **variant.env, "PYTHONPATH": str(variant.repo), "IOC_NODE_NAME": name}
    env["IOC_PORT"] = str(port)
    args = [sys.executable, "-m", "ioc.cli", "serve", "--no-engine"]
    node = Node(name, args, env, cluster.tmp / f"{name}.log", port, cwd=variant.repo)
    cluster.nodes.append(node)
    eventually(lambda: node.get("/readyz").status_code == 200 if node.health() else False, 60, f"{name} up")
    return node


def login(node: Node, password: str) -> str:
    reply = httpx.post(
        f"http://127.0.0.1:{node.port}/api/auth/login",
        json={"username": "admin", "password": password},
        timeout=5,
    )
    reply.raise_for_status()
    return str(reply.json()["access_token"])


def profiler(py_spy: str | None, pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    """``py-spy record`` of the API node (non-blocking sampling, collapsed stacks) while it serves."""
    if py_spy is None:
        return None
    args = [py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--nonblocking"]
    args += ["--format", "raw", "--output", str(out)]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def measure(
    api: Node,
    token: str,
    redis_url: str,
    clients: int,
    procs: int,
    args: argparse.Namespace,
    profile_to: Path | None = None,
) -> tuple[list[float], tuple[float, float], float]:
    """Latencies of every alert at every client, the API node's CPU seconds (user, system) and the
    clients' CPU seconds."""
    rate, seconds = args.rate, args.seconds
    expected = int(rate * seconds)
    ctx = mp.get_context("spawn")
    ready, results = ctx.Queue(), ctx.Queue()
    shares = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    workers = [
        ctx.Process(
            target=client_process, args=(api.port, token, n, expected, args.library_clients, ready, results)
        )
        for n in shares
        if n
    ]
    for w in workers:
        w.start()
    connected = sum(ready.get(timeout=120) for _ in workers)
    assert connected == clients, f"{connected} of {clients} clients connected"
    cpu_before = cpu_seconds(api.process.pid)
    spy = profiler(args.py_spy, api.process.pid, seconds, profile_to) if profile_to else None
    sent = publish(redis_url, rate, seconds)
    outcomes = [results.get(timeout=expected / 10 + 120) for _ in workers]
    cpu_after = cpu_seconds(api.process.pid)
    api_cpu = (cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1])
    if spy is not None:
        spy.wait(timeout=60)
        print(f"  py-spy: {profile_to}", flush=True)
    for w in workers:
        w.join(timeout=30)
    values = [v for latencies, _ in outcomes for v in latencies]
    print(f"  {clients} clients: sent {sent}, received {len(values)} of {sent * clients}", flush=True)
    return values, api_cpu, sum(cpu for _, cpu in outcomes)


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else float("nan")


# -- the run --------------------------------------------------------------------------------------
def run(args: argparse.Namespace, variants: list[Variant]) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        redis_server = RedisServer(tmp)
        redis_server.start()
        schema = f"ioc_bench_{uuid.uuid4().hex[:8]}"
        admin = psycopg.connect(args.database_url, autocommit=True)
        admin.execute(f"CREATE SCHEMA {schema}")
        pg_url = f"{args.database_url}?options=-csearch_path%3D{schema}"
        cluster = Cluster(tmp, redis_server.url, pg_url, tmp / "absent.yaml", 10)
        results: list[Result] = []
        password = ""
        try:
            for r in range(args.rounds):
                for i, variant in enumerate(variants):
                    api = start_api(cluster, variant, r * len(variants) + i)
                    if not password:
                        found = eventually(
                            lambda api=api: re.search(r"admin password: (\S+)", api.log.read_text()),
                            10,
                            "admin password",
                        )
                        password = found.group(1)
                    token = login(api, password)
                    print(f"round {r + 1}, {variant.label}:", flush=True)
                    for n in (1, args.clients):
                        procs = min(args.client_procs, n)
                        profile = Path(f"fanout-{variant.label}-{r + 1}.txt") if n > 1 else None
                        values, api_cpu, clients_cpu = measure(
                            api, token, redis_server.url, n, procs, args, profile
                        )
                        expected = int(args.rate * args.seconds) * n
                        results.append(Result(variant.label, n, values, expected, api_cpu, clients_cpu))
                        print_result(results[-1], args.rate)
                    api.stop()
            report(results, args)
        finally:
            cluster.stop()
            redis_server.stop()
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
            admin.close()


def print_result(res: Result, rate: float) -> None:
    p50, p99 = _p(res.latencies, 50) * 1000, _p(res.latencies, 99) * 1000
    print(
        f"{res.label:>10} {res.clients:3} clients x {rate:g}/s: p50 {p50:8.1f} ms,"
        f" p99 {p99:8.1f} ms, {len(res.latencies)} of {res.expected},"
        f" API node CPU {sum(res.api_cpu_s):5.1f} s (system {res.api_cpu_s[1]:4.1f} s),"
        f" clients CPU {res.clients_cpu_s:5.1f} s",
        flush=True,
    )


def report(results: list[Result], args: argparse.Namespace) -> None:
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f} (1 min)")
    for res in results:
        print_result(res, args.rate)
    labels = list(dict.fromkeys(r.label for r in results))
    for label in labels:
        one = [_p(r.latencies, 99) for r in results if r.label == label and r.clients == 1]
        many = [_p(r.latencies, 99) for r in results if r.label == label and r.clients == args.clients]
        p1, pn = statistics.median(one), statistics.median(many)
        print(
            f"{label:>10}: median p99 {pn * 1000:.1f} ms at {args.clients} clients, ratio to 1 client"
            f" {pn / p1:.1f}x, vs target 100 ms: {pn / 0.1:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--client-procs", type=int, default=2, help="processes the clients run in")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--library-clients",
        action="store_true",
        help="clients through the websockets library's asyncio client instead of the light frame reader",
    )
    parser.add_argument("--variant", action="append", default=[], help="LABEL=SPEC, see above")
    parser.add_argument("--database-url", default="postgresql://127.0.0.1:5432/test")
    parser.add_argument(
        "--py-spy",
        metavar="PATH",
        help="py-spy executable: profile the API node during each many-client measurement "
        "(collapsed stacks written to fanout-LABEL-ROUND.txt in the current directory)",
    )
    args = parser.parse_args()
    if args.client_procs < 1 or args.clients < 1:
        parser.error("--clients and --client-procs must be ≥ 1")
    variants = [Variant.parse(v) for v in args.variant] or [Variant("current")]
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # clean up on kill
    run(args, variants)


if __name__ == "__main__":
    main()
