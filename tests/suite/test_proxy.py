"""`close-conformance proxy`: forwards unchanged, judges as traffic passes, reports on SIGINT/SIGTERM."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance import contract
from conformance.mock import build
from conformance.mock.server import MockServer
from conformance.suite.conclusion import conclude
from conformance.suite.proxy import Proxy
from tests.suite.apps import traffic
from tests.suite.faulty import FAULTS, FaultyServer, read_body

BY_NAME = {fault.name: fault for fault in FAULTS}


class Tap:
    """ASGI wrapper that keeps what reached the upstream, then lets the app answer."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str, bytes, str | None]] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.seen.append((scope["method"], scope["path"], body, headers.get("authorization")))

        async def again() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, again, send)


def test_traffic_through_the_proxy_is_forwarded_unchanged_and_judged_conformant() -> None:
    tap = Tap(build())
    with MockServer(tap) as upstream, Proxy(upstream.origin + "/api/v1", contract.today()) as proxy:
        traffic(proxy.origin)
        sent = httpx.post(
            proxy.origin + "/phone_number/request/internal/",
            content=iter([b'{"country": ', b'"CA"}']),  # a chunked body
            headers={"content-type": "application/json"},
            auth=("mock_admin_key", ""),
        )
        report = conclude(proxy.evidence())
    assert sent.status_code == 201
    assert report.violations == []
    assert len(tap.seen) == len(report.evidence.exchanges) == 7  # exactly what was sent, nothing added
    assert tap.seen[-1][2] == b'{"country": "CA"}'
    assert all(auth and auth.startswith("Basic ") for _m, _p, _b, auth in tap.seen)  # credentials pass through
    assert all("mock_admin_key" not in json.dumps(e.headers) for e in report.evidence.exchanges)  # ... but are not kept
    assert report.evidence.verdicts.other == 1


def test_the_official_closeio_client_through_the_proxy() -> None:
    from closeio_api import API

    with MockServer(build()) as upstream, Proxy(upstream.origin + "/api/v1", contract.today()) as proxy:
        api = API(proxy.origin + "/", api_key="mock_admin_key")
        rented = api.post("phone_number/request/internal", data={"country": "US", "prefix": "212"})
        report = conclude(proxy.evidence())
    assert rented["number"].startswith("+1212")
    assert report.violations == []
    assert len(report.rentals) == 1


def test_violations_are_printed_as_they_happen() -> None:
    found: list[str] = []
    upstream_app = FaultyServer(BY_NAME["omits a required field"])
    with (
        MockServer(upstream_app) as upstream,
        Proxy(
            upstream.origin + "/api/v1",
            contract.today(),
            on_finding=lambda _e, key, _m: found.append(key.split(":")[0]),
        ) as proxy,
    ):
        traffic(proxy.origin)
        deadline = time.monotonic() + 10
        while "response_schema_conformance" not in found and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "response_schema_conformance" in found  # while the proxy still runs
        report = conclude(proxy.evidence())
    assert any(v.check == "response_schema_conformance" for v in report.violations)


def test_refuse_invalid_answers_with_the_contracts_400_and_never_forwards() -> None:
    tap = Tap(build())
    with (
        MockServer(tap) as upstream,
        Proxy(upstream.origin + "/api/v1", contract.today(), refuse_invalid=True) as proxy,
    ):
        answer = httpx.post(
            proxy.origin + "/phone_number/request/internal/",
            json={"country": "US", "prefix": "1234567"},
            auth=("mock_admin_key", ""),
        )
        garbage = httpx.post(proxy.origin + "/phone_number/request/internal/", content=b"{not json",
                             headers={"content-type": "application/json"}, auth=("mock_admin_key", ""))  # fmt: skip
    assert answer.status_code == 400
    assert "prefix" in answer.json()["field-errors"]
    assert contract.today().validator("Refusal").is_valid(answer.json())
    assert garbage.status_code == 400
    assert tap.seen == []


@pytest.mark.parametrize(("upstream_app", "expected"), [(None, 0), ("omits a required field", 1)])
def test_the_command_reports_on_sigterm(tmp_path: Path, upstream_app, expected) -> None:
    app = build() if upstream_app is None else FaultyServer(BY_NAME[upstream_app])
    with MockServer(app) as upstream:
        process = subprocess.Popen(
            [sys.executable, "-m", "conformance", "proxy", "--upstream", upstream.origin + "/api/v1", "--port", "0",
             "--report-dir", str(tmp_path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            origin = line.split("listening on ")[1].split(",")[0]
            traffic(origin)
        finally:
            time.sleep(0.2)
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=30)
    assert process.returncode == expected, out + err
    assert "Traceback" not in err
    assert "carry a credential" not in out  # live traffic carries credentials by nature: no warning to remove them
    assert (tmp_path / "junit.xml").exists()
    assert json.loads((tmp_path / "report.json").read_text())["conformant"] is (expected == 0)
    for name in ("summary.txt", "report.json", "junit.xml", "exchanges.har"):
        assert "mock_admin_key" not in (tmp_path / name).read_text(), name
        assert "bW9ja19hZG1pbl9rZXk6" not in (tmp_path / name).read_text(), name
    if expected:
        assert "VIOLATION response_schema_conformance" in out


class Gunzip(Tap):
    """An upstream that reads gzip request bodies (some servers do), keeping what reached it."""

    async def __call__(self, scope, receive, send) -> None:
        body = await read_body(receive)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.seen.append((scope["method"], scope["path"], body, headers.get("content-encoding")))
        plain = gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"content-encoding"]}

        async def again() -> dict[str, Any]:
            return {"type": "http.request", "body": plain, "more_body": False}

        await self.app(scope, again, send)


def test_a_compressed_request_goes_on_compressed_and_is_judged_as_json() -> None:
    upstream_app = Gunzip(build())
    compressed = gzip.compress(b'{"country": "US"}')
    with MockServer(upstream_app) as upstream, Proxy(upstream.origin + "/api/v1", contract.today()) as proxy:
        sent = httpx.post(
            proxy.origin + "/phone_number/request/internal/",
            content=compressed,
            headers={"content-type": "application/json", "content-encoding": "gzip"},
            auth=("mock_admin_key", ""),
        )
        report = conclude(proxy.evidence())
    assert sent.status_code == 201, sent.text
    assert upstream_app.seen == [("POST", "/api/v1/phone_number/request/internal/", compressed, "gzip")]
    assert report.violations == []
    assert report.evidence.exchanges[0].allowed_body  # judged as the JSON it carries


def test_under_concurrent_load_every_exchange_is_judged() -> None:
    # The judge waits for a quiet moment, but never longer than a short bound per exchange.
    from concurrent.futures import ThreadPoolExecutor

    with MockServer(build()) as upstream, Proxy(upstream.origin + "/api/v1", contract.today()) as proxy:
        url = proxy.origin + "/phone_number/request/internal/"

        def rent(_: int) -> int:
            return httpx.post(url, json={"country": "US"}, auth=("mock_admin_key", "")).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(rent, range(200)))
        report = conclude(proxy.evidence())
    assert statuses == [201] * 200
    assert proxy.judge.verdicts.endpoint == 200
    result = report.checks["rentals_are_distinct_and_stable"]
    assert (result.judged, result.failed) == (200, 0)
    assert report.violations == []
