"""Benchmark `vixshield serve`: latency of GET /api/plan/latest under concurrent clients.

    python -m bench.serve_bench [--home DIR] [--clients 20] [--seconds 10] [--path /api/plan/latest]

Starts `vixshield serve` on 127.0.0.1 (a process of its own, as in use) over DIR's published snapshot
(default $VIXSHIELD_HOME or ./data; build one with `vixshield run` first), then runs `--clients`
client threads, each on its own keep-alive connection, requesting `--path` back to back for
`--seconds`. Prints p50, p90, p99 and max latency, throughput and errors. Goal: p99 <= 20 ms for 20
clients. The clients share this process's cores with the server, so the figures include their cost.
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from vixshield.serve import api, publish


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _client(port: int, path: str, until: float, out: list[float], errors: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                errors.append(f"HTTP {resp.status}")
                continue
        except (OSError, http.client.HTTPException) as exc:
            errors.append(type(exc).__name__)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            continue
        out.append(time.perf_counter() - t0)
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", default=os.environ.get("VIXSHIELD_HOME", "data"))
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--path", default="/api/plan/latest")
    args = parser.parse_args()
    home = Path(args.home)
    if not publish.snapshot_path(home).exists():
        sys.exit(f"no published snapshot under {home}: run `vixshield --home {home} run --source sample` first")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "--home", str(home), "serve", "--port", str(port)],
        stderr=subprocess.DEVNULL,
    )
    try:
        api.wait_until_up(f"http://127.0.0.1:{port}/health")
        warm: list[float] = []
        _client(port, args.path, time.perf_counter() + 1.0, warm, [])  # first request fills the cache
        samples: list[float] = []
        errors: list[str] = []
        until = time.perf_counter() + args.seconds
        threads = [
            threading.Thread(target=_client, args=(port, args.path, until, samples, errors))
            for _ in range(args.clients)
        ]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(10)
    if not samples:
        sys.exit(f"no successful request; errors: {errors[:5]}")
    q = statistics.quantiles(samples, n=100)
    ms = 1000.0
    print(f"GET {args.path}: {args.clients} clients for {args.seconds:g} s on 127.0.0.1 ({os.cpu_count()} cores)")
    print(f"  requests   {len(samples):,} ok, {len(errors):,} errors, {len(samples) / elapsed:,.0f}/s")
    print(f"  latency    p50 {q[49] * ms:.2f} ms   p90 {q[89] * ms:.2f} ms   p99 {q[98] * ms:.2f} ms   "
          f"max {max(samples) * ms:.2f} ms")  # fmt: skip
    print(f"  first request (cold, builds the response) {warm[0] * ms:.1f} ms" if warm else "")


if __name__ == "__main__":
    main()
