"""Benchmarks of the traffic judges: replay throughput and the latency the proxy adds.

* replay: a HAR of 10,000 exchanges with the endpoint (rentals and refusals recorded from the
  mock, repeated), judged by `close-conformance replay` as a user runs it (start-up included);
* proxy: the same load (rentals, 10 connections) straight to the mock and through
  `close-conformance proxy`; the difference of the p50 latencies is what the proxy adds. Two
  loads: paced (10 connections sharing 200 requests a second, far from saturation: the
  latency the proxy adds to a call) and saturating (wrk's closed loop: throughput, where
  latency is queueing).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from bench.harness import AUTH, CONTRACT, ENDPOINT, PRISM, Settings, free_port, server

if TYPE_CHECKING:
    from collections.abc import Callable


REPLAY_EXCHANGES = 10_000
SMOKE_EXCHANGES = 200
PROXY_CONNECTIONS = 10
PACED_RATE = 200.0  # requests a second, over all connections


def paced_load(url: str, body: dict[str, Any], connections: int, duration: float) -> dict[str, float]:
    """Each connection sends on a fixed schedule (rate / connections a second): latency without queueing."""
    import http.client
    import threading
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    payload = json.dumps(body).encode()
    headers = {"content-type": "application/json", "authorization": AUTH}
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    interval = connections / PACED_RATE

    def worker(offset: float) -> None:
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
        start = time.perf_counter() + offset
        sent = 0
        while (slot := start + sent * interval) < start + duration:
            time.sleep(max(0.0, slot - time.perf_counter()))
            began = time.perf_counter()
            connection.request("POST", parts.path, body=payload, headers=headers)
            answer = connection.getresponse()
            answer.read()
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)
                failures[0] += not 200 <= answer.status < 300
            sent += 1
        connection.close()

    threads = [threading.Thread(target=worker, args=(i * interval / connections,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered = sorted(latencies)
    return {
        "rps": len(ordered) / duration,
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "requests": float(len(ordered)),
        "non_2xx": float(failures[0]),
    }


def recorded_har(path: Path, exchanges: int) -> None:
    """Record a few real exchanges with the mock as HAR (the suite's own writer), repeated to `exchanges`."""
    import dataclasses

    from conformance import contract
    from conformance.mock import MockServer, build
    from conformance.suite import wire
    from conformance.suite.conclusion import Evidence, Source, conclude
    from conformance.suite.judge import Verdicts
    from conformance.suite.report import write_har

    bodies = [{"country": "US", "prefix": "650"}, {"country": "DE"}, {"country": "us"}, {"country": "CA"}]
    seen = []
    with MockServer(build()) as mock, httpx.Client(base_url=mock.origin) as client:
        for number, body in enumerate(bodies * 25, 1):
            raw = json.dumps(body).encode()
            headers = [("content-type", "application/json"), ("authorization", "Basic [REDACTED]")]
            url = mock.origin + "/api/v1/phone_number/request/internal/"
            exchange, _ = wire.exchange(number, contract.today(), "POST", url, headers=headers, body=raw)
            exchange.started = time.time()
            answer = client.post(exchange.path, content=raw, headers={**dict(headers), "authorization": AUTH})
            exchange.status, exchange.response_body = answer.status_code, answer.content
            exchange.response_headers = list(answer.headers.items())
            seen.append(exchange)
        origin = mock.origin
    repeated = [dataclasses.replace(seen[index % len(seen)], number=index + 1) for index in range(exchanges)]
    source = Source("replay", "bench", origin, contract.today(), "recorded")
    write_har(conclude(Evidence(source, repeated, Verdicts())), path)


def bench_replay(settings: Settings, progress: Callable[[str], None]) -> dict[str, Any]:
    """Seconds for `close-conformance replay` over the HAR, start-up included (median of the repetitions)."""
    exchanges = SMOKE_EXCHANGES if settings.smoke else REPLAY_EXCHANGES
    timings = []
    with tempfile.TemporaryDirectory() as scratch:
        har = Path(scratch) / "traffic.har"
        recorded_har(har, exchanges)
        for _ in range(settings.repetitions):
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "conformance", "replay", str(har)], capture_output=True, text=True, check=False
            )
            timings.append(time.perf_counter() - started)
            if done.returncode not in (0, 1) or "Exchanges:" not in done.stdout:
                raise RuntimeError(f"replay failed: {done.stdout[-500:]}{done.stderr[-500:]}")
    progress(f"  replay: {exchanges} exchanges in {min(timings):.2f}-{max(timings):.2f} s")
    return {
        "exchanges": exchanges,
        "seconds": {"median": sorted(timings)[len(timings) // 2], "min": min(timings), "max": max(timings)},
    }


def bench_proxy(
    settings: Settings, progress: Callable[[str], None], load: Callable[..., dict[str, float]]
) -> dict[str, Any]:
    """p50/p99 of rentals at 10 connections, direct and through the proxy, and what the proxy adds."""
    body = {"country": "US", "prefix": "650"}
    mock_port, proxy_port = free_port(), free_port()
    mock = [sys.executable, "-m", "conformance.mock.cli", "serve", "--port", str(mock_port)]
    proxy = [sys.executable, "-m", "conformance", "proxy", "--upstream", f"http://127.0.0.1:{mock_port}/api/v1",
             "--port", str(proxy_port)]  # fmt: skip
    direct_url = f"http://127.0.0.1:{mock_port}{ENDPOINT}"
    proxied_url = f"http://127.0.0.1:{proxy_port}{ENDPOINT.removeprefix('/api/v1')}"
    # Prism's validating proxy (`prism proxy --errors`) on the same contract, beside ours, under the same load.
    prism_port = free_port()
    prism = [str(PRISM), "proxy", str(CONTRACT), f"http://127.0.0.1:{mock_port}/api/v1", "--errors",
             "-h", "127.0.0.1", "-p", str(prism_port)]  # fmt: skip
    prism_url = f"http://127.0.0.1:{prism_port}{ENDPOINT.removeprefix('/api/v1')}"
    with_prism = PRISM.exists() and not settings.smoke
    runs: dict[str, list[dict[str, float]]] = {
        "direct": [], "through": [], "paced_direct": [], "paced_through": [], "paced_prism": [],
    }  # fmt: skip
    loads = [
        ("direct", direct_url, load), ("through", proxied_url, load),
        ("paced_direct", direct_url, paced_load), ("paced_through", proxied_url, paced_load),
    ]  # fmt: skip
    with contextlib.ExitStack() as stack:
        stack.enter_context(server(mock, mock_port))
        stack.enter_context(server(proxy, proxy_port))
        if with_prism:
            stack.enter_context(server(prism, prism_port))
            loads.append(("paced_prism", prism_url, paced_load))
        for _ in range(settings.repetitions):
            for name, url, generator in loads:
                generator(url, body, PROXY_CONNECTIONS, settings.warmup)
                runs[name].append(generator(url, body, PROXY_CONNECTIONS, settings.duration))
    direct, through = runs["direct"], runs["through"]
    added = [t["p50_ms"] - d["p50_ms"] for d, t in zip(runs["paced_direct"], runs["paced_through"], strict=True)]
    prism_added = [t["p50_ms"] - d["p50_ms"] for d, t in zip(runs["paced_direct"], runs["paced_prism"], strict=False)]
    saturated = [t["p50_ms"] - d["p50_ms"] for d, t in zip(direct, through, strict=True)]
    progress(
        f"  proxy adds {min(added):.2f}-{max(added):.2f} ms at p50 ({PROXY_CONNECTIONS} connections, "
        f"{PACED_RATE:g} requests/s); {min(saturated):.1f}-{max(saturated):.1f} ms when saturated"
    )

    def med(rows: list[dict[str, float]], key: str) -> float:
        return sorted(row[key] for row in rows)[len(rows) // 2]

    return {
        "connections": PROXY_CONNECTIONS,
        "direct": {key: med(direct, key) for key in ("rps", "p50_ms", "p99_ms", "non_2xx")},
        "through_proxy": {key: med(through, key) for key in ("rps", "p50_ms", "p99_ms", "non_2xx")},
        "added_p50_ms": {"median": sorted(added)[len(added) // 2], "min": min(added), "max": max(added)},
        "paced_rate": PACED_RATE,
        "paced_direct": {key: med(runs["paced_direct"], key) for key in ("rps", "p50_ms", "p99_ms", "non_2xx")},
        "paced_through_proxy": {key: med(runs["paced_through"], key) for key in ("rps", "p50_ms", "p99_ms", "non_2xx")},
        "saturated_added_p50_ms": {
            "median": sorted(saturated)[len(saturated) // 2],
            "min": min(saturated),
            "max": max(saturated),
        },
        "prism_added_p50_ms": {
            "median": sorted(prism_added)[len(prism_added) // 2],
            "min": min(prism_added),
            "max": max(prism_added),
        }
        if prism_added
        else None,
        "paced_through_prism": {key: med(runs["paced_prism"], key) for key in ("rps", "p50_ms", "p99_ms", "non_2xx")}
        if runs["paced_prism"]
        else None,
    }
