"""Login burst: does a flood of wrong passwords slow the probes and the wall?

Starts ``ioc serve --no-engine`` twice on a fresh data dir: once with the default login throttling,
once with throttling effectively off (the baseline, as the first build behaved). Each run measures
``/healthz`` latency while idle, then again while ``--attempts`` wrong-password logins for
``admin`` arrive from ``--concurrency`` clients at once; it also counts how many of them were
answered 401 (a password was hashed) and how many 429 (refused without hashing).

    python benchmarks/login_burst.py --attempts 60 --concurrency 20

Prints, per run, the /healthz p50 / max during the burst, their ratio to idle, the burst's wall
time and the answers, then the ratio throttled / baseline.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True, slots=True)
class Run:
    name: str
    idle_p50_ms: float
    burst_p50_ms: float
    burst_max_ms: float
    burst_seconds: float
    answers: dict[int, int]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(data_dir: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "ioc.cli", "serve", "--no-engine", "--port", str(port)]
    cmd += ["--data-dir", str(data_dir), "--config", str(data_dir / "absent.yaml")]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **env}
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "ioc: serving" in line:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe drained
            return proc, f"http://127.0.0.1:{port}"
    raise RuntimeError("ioc serve did not start")


def _probe(client: httpx.Client, url: str, stop: threading.Event, out: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        client.get(f"{url}/healthz")
        out.append((time.perf_counter() - started) * 1000)
        stop.wait(0.05)


def _idle(client: httpx.Client, url: str) -> float:
    samples = []
    for _ in range(40):
        started = time.perf_counter()
        client.get(f"{url}/healthz")
        samples.append((time.perf_counter() - started) * 1000)
        time.sleep(0.01)
    return statistics.median(samples)


def measure(name: str, env: dict[str, str], attempts: int, concurrency: int) -> Run:
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = _start(Path(tmp), env)
        try:
            with httpx.Client(timeout=120) as client:
                idle = _idle(client, url)
                latencies: list[float] = []
                stop = threading.Event()
                prober = threading.Thread(target=_probe, args=(client, url, stop, latencies))
                prober.start()
                started = time.perf_counter()
                with ThreadPoolExecutor(concurrency) as pool:
                    codes = list(pool.map(lambda _: _login(url), range(attempts)))
                burst = time.perf_counter() - started
                stop.set()
                prober.join()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    return Run(
        name, idle, statistics.median(latencies), max(latencies), burst, dict(sorted(Counter(codes).items()))
    )


def _login(url: str) -> int:
    body = {"username": "admin", "password": "not-the-password"}
    return httpx.post(f"{url}/api/auth/login", json=body, timeout=120).status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    off = {"IOC_LOGIN_SLOWDOWN_AFTER": "1000", "IOC_LOGIN_LOCK_AFTER": "10000"}
    runs = [
        measure("baseline: no throttling", off, args.attempts, args.concurrency),
        measure("throttled (defaults)", {}, args.attempts, args.concurrency),
    ]
    for run in runs:
        print(
            f"{run.name:26s} /healthz idle p50 {run.idle_p50_ms:6.1f} ms"
            f" | burst p50 {run.burst_p50_ms:7.1f} ms"
            f" (x{run.burst_p50_ms / run.idle_p50_ms:5.1f}) max {run.burst_max_ms:7.1f} ms"
            f" | burst {run.burst_seconds:5.1f} s | answers {run.answers}"
        )
    base, throttled = runs
    print(
        f"throttled / baseline: /healthz max during burst x{throttled.burst_max_ms / base.burst_max_ms:.2f},"
        f" burst time x{throttled.burst_seconds / base.burst_seconds:.2f}"
    )


if __name__ == "__main__":
    main()
