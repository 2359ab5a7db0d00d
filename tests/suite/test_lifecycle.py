"""What a full run rents, it reads back and releases, whatever ends it; the ledger finishes a killed run."""

from __future__ import annotations

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
from conformance.errors import LedgerError
from conformance.mock import build
from conformance.mock.server import MockServer
from conformance.suite import lifecycle
from conformance.suite.cli import main
from conformance.suite.credentials import PLACEHOLDER_ANY, Secrets, basic
from conformance.suite.guard import Guard, Policy
from tests.suite.faulty import Answer, Fault, FaultyServer
from tests.suite.views import rental

FULL = ["--mode", "full", "--max-rentals", "100000", "--quiet", "--examples", "20"]
CREDENTIALS = {"CLOSE_API_KEY": "mock_admin_key", "CLOSE_BEARER_TOKEN": "mock_oauth_token"}


def held(origin: str) -> int:
    """Numbers the mock still holds (rented and not released)."""
    return int(httpx.get(origin + "/__mock__/rentals", timeout=10).json()["held"])


def rented(origin: str) -> int:
    return int(httpx.get(origin + "/__mock__/rentals", timeout=10).json()["count"])


@pytest.mark.usefixtures("credentials")
def test_a_successful_run_releases_everything_it_rented(tmp_path: Path, capsys) -> None:
    with MockServer(build()) as mock:
        code = main(["--base-url", mock.origin + "/api/v1", *FULL, "--report-dir", str(tmp_path)])
        assert held(mock.origin) == 0
        rented_n = rented(mock.origin)
        assert rented_n > 10
    out = capsys.readouterr().out
    assert code == 0, out
    record = json.loads((tmp_path / "report.json").read_text())
    assert record["lifecycle"]["held"] == []
    # Every rental read back before its release, those the stateful phase released too (rent -> release links).
    assert record["lifecycle"]["read_back"] == record["lifecycle"]["rented"] == rented_n, record["lifecycle"]
    assert "still held 0" in out
    assert lifecycle.read(tmp_path / "ledger.jsonl").by_base == {mock.origin + "/api/v1": []}


def _wrong_country(body: Any, answer: Answer) -> Answer:
    status, headers, raw = answer
    if status == 201:
        rented_number = json.loads(raw)
        rented_number["country"] = "ZZ"
        return status, headers, json.dumps(rented_number).encode()
    return answer


@pytest.mark.usefixtures("credentials")
def test_a_run_that_finds_violations_releases_everything_too(capsys) -> None:
    server = FaultyServer(
        Fault("rents in another country", "rented_number_in_requested_country", answer=_wrong_country)
    )
    with MockServer(server) as mock:
        code = main(["--base-url", mock.origin + "/api/v1", *FULL])
        assert held(mock.origin) == 0
    out = capsys.readouterr().out
    assert code == 1
    # One cause, however many rentals showed it.
    assert out.count("Violation ") == 1 or "rented_number_in_requested_country: country (" in out
    assert "still held 0" in out


@pytest.mark.usefixtures("credentials")
def test_a_run_stopped_by_its_deadline_releases_what_it_rented(capsys) -> None:
    class Slow(FaultyServer):
        async def __call__(self, scope, receive, send) -> None:  # every answer takes a moment
            import asyncio

            if scope["type"] == "http" and scope["method"] == "POST":
                await asyncio.sleep(0.05)
            await super().__call__(scope, receive, send)

    server = Slow(Fault("slow", ""))
    with MockServer(server) as mock:
        code = main(["--base-url", mock.origin + "/api/v1", *FULL, "--deadline", "3"])
        assert rented(mock.origin) > 0
        assert held(mock.origin) == 0
    out = capsys.readouterr().out
    assert code == 0, out
    assert "the run stopped early: the run's deadline was reached" in out


def _start(args: list[str], tmp_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, **CREDENTIALS, "PYTHONUNBUFFERED": "1", "XDG_STATE_HOME": str(tmp_path / "state")}
    return subprocess.Popen(
        [sys.executable, "-m", "conformance", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def _wait_for_rentals(origin: str, process: subprocess.Popen[str], at_least: int = 5) -> None:
    deadline = time.monotonic() + 60
    while rented(origin) < at_least:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no rentals within a minute"
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_run_ended_by_a_signal_releases_what_it_rented_and_reports(tmp_path: Path, sig: signal.Signals) -> None:
    with MockServer(build()) as mock:
        report = tmp_path / "report"
        process = _start(["--base-url", mock.origin + "/api/v1", *FULL[:-2], "--report-dir", str(report)], tmp_path)
        _wait_for_rentals(mock.origin, process)
        process.send_signal(sig)
        out, err = process.communicate(timeout=120)
        assert held(mock.origin) == 0, out + err
    assert process.returncode in (1, 2), out + err  # interrupted: never "conformant"
    assert "Traceback" not in err
    record = json.loads((report / "report.json").read_text())
    assert record["lifecycle"]["held"] == []
    assert "interrupted" in out
    # Said at once, said once; and the summary still says what the run rented and released.
    assert err.count("close-conformance: interrupted: sending nothing new, then releasing what was rented") == 1
    rented_n = record["lifecycle"]["rented"]
    assert rented_n >= 5
    assert f"released {rented_n}" in out, out


def test_kill_9_mid_run_then_release_from_the_ledger_leaves_nothing_held(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    with MockServer(build()) as mock:
        base_url = mock.origin + "/api/v1"
        process = _start(["--base-url", base_url, *FULL[:-2], "--ledger", str(ledger)], tmp_path)
        _wait_for_rentals(mock.origin, process, at_least=8)
        process.kill()
        process.communicate(timeout=30)
        assert held(mock.origin) > 0
        assert lifecycle.read(ledger).by_base[base_url]  # the ledger knows what is held
        env = {**os.environ, **CREDENTIALS}
        done = subprocess.run(
            [sys.executable, "-m", "conformance", "release", "--ledger", str(ledger)],
            capture_output=True, text=True, check=False, env=env, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert held(mock.origin) == 0
    assert "still held: 0" in done.stdout
    # Released once, recorded: running it again releases nothing and says so.
    assert lifecycle.read(ledger).by_base[base_url] == []


class NumberFault:
    """The mock, with the answers to reads or releases of a number rewritten (or a release that does nothing)."""

    def __init__(self, method: str, rewrite: Any) -> None:
        self.mock = build()
        self.method, self.rewrite = method, rewrite

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != self.method or "/request/" in scope["path"]:
            await self.mock(scope, receive, send)
            return
        if self.rewrite == "skip":  # answer 200 {} without releasing anything
            headers = [(b"content-type", b"application/json"), (b"content-length", b"2")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b"{}"})
            return
        sent: dict[str, Any] = {}

        async def capture(message: dict[str, Any]) -> None:
            sent.setdefault(message["type"], message)

        await self.mock(scope, receive, capture)
        start = sent["http.response.start"]
        answer: Answer = (
            start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, sent["http.response.body"]["body"]
        )  # fmt: skip
        status, headers, payload = self.rewrite(answer)
        headers["content-length"] = str(len(payload))
        out = [(k.encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": payload})


def _failing_release(answer: Answer) -> Answer:
    return 500, {"content-type": "application/json"}, b'{"status": "error", "error": "release failed"}'


def _another_number(answer: Answer) -> Answer:
    status, headers, raw = answer
    if status != 200:
        return answer
    number = json.loads(raw)
    number["number"] = "+16505550199" if number["number"] != "+16505550199" else "+16505550198"
    return status, headers, json.dumps(number).encode()


@pytest.mark.usefixtures("credentials")
@pytest.mark.parametrize(
    ("method", "rewrite", "expected"),
    [
        ("DELETE", _failing_release, "release_releases: release failed"),
        ("DELETE", "skip", "read_back_is_the_rental: released number still there"),
        ("GET", _another_number, "read_back_is_the_rental: another number"),
    ],
    ids=["a release that fails", "a release that does nothing", "a read of another number"],
)
def test_a_server_whose_release_or_read_is_wrong_is_caught(method, rewrite, expected, capsys) -> None:
    with MockServer(NumberFault(method, rewrite)) as mock:
        code = main(["--base-url", mock.origin + "/api/v1", *FULL])
    out = capsys.readouterr().out
    assert code == 1, out
    assert expected in out, out
    if rewrite is _failing_release:
        assert "Still held after the run" in out  # ... and what is still held is listed, with how to release it
        assert "close-conformance release --ledger" in out


@pytest.mark.usefixtures("credentials")
def test_a_release_answered_2xx_that_leaves_the_number_there_is_still_held(tmp_path: Path, capsys) -> None:
    """A 2xx to DELETE is no proof: every release is read again, and a number still there is held, everywhere."""
    ledger = tmp_path / "ledger.jsonl"
    with MockServer(NumberFault("DELETE", "skip")) as mock:
        base_url = mock.origin + "/api/v1"
        code = main(["--base-url", base_url, *FULL[:-2], "--max-rentals", "8", "--ledger", str(ledger), "--report-dir",
                     str(tmp_path / "report")])  # fmt: skip
        out = capsys.readouterr().out
        really_held = held(mock.origin)
        record = json.loads((tmp_path / "report" / "report.json").read_text())
        # Every release was read again (not only the first few): each number is still there, so each is held.
        assert really_held == record["lifecycle"]["rented"] >= 6, out
        assert len(record["lifecycle"]["held"]) == really_held, record["lifecycle"]
        assert record["lifecycle"]["release_command"] == f"close-conformance release --ledger {ledger}"
        assert f"still held {really_held}" in out, out
        assert "Still held after the run" in out
        # The ledger says so too, and releasing from it reads each again: nothing is taken for released.
        assert sorted(lifecycle.read(ledger).by_base[base_url]) == sorted(record["lifecycle"]["held"])
        env = {**os.environ, **CREDENTIALS}
        done = subprocess.run(
            [sys.executable, "-m", "conformance", "release", "--ledger", str(ledger)],
            capture_output=True, text=True, check=False, env=env, timeout=120,
        )  # fmt: skip
    assert code == 1
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.count("the release was answered 200, but reading it answered 200") == really_held
    assert f"still held: {really_held}" in done.stdout


# -- the ledger, on its own ------------------------------------------------------------------------


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_book_opens_its_folder_and_records_the_run_then_each_event_on_its_own_line(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "state" / "ledger.jsonl"
    book = lifecycle.Book.open(path, "https://api.example.invalid/api/v1")
    attempt = rental()
    book.renting(attempt)
    book.rented("phon_a1")
    book.answered(attempt)
    book.released("phon_a1")
    events = _events(path)
    assert [event["event"] for event in events] == ["run", "renting", "rented", "answered", "released"]
    assert events[0]["base_url"] == "https://api.example.invalid/api/v1"
    assert all(event["at"].endswith("+00:00") for event in events)
    assert attempt.body.decode() not in path.read_text()  # a request is recorded by a hash, never its body
    assert len(events[1]["request"]) == 16


def test_the_ledger_says_what_is_still_held_per_base_url(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    first = lifecycle.Book.open(path, "https://one.invalid/api/v1")
    first.rented("phon_a1")
    first.rented("phon_a2")
    first.released("phon_a1")
    second = lifecycle.Book.open(path, "https://two.invalid/api/v1")  # one file may hold several runs
    second.rented("phon_b1")
    second.released("phon_nobody")  # not rented here: nothing to take away
    second.rented("phon_b2")
    second.released("phon_b2")
    second.unreleased("phon_b2")  # released by its answer, still there when read: held again
    held = lifecycle.read(path)
    assert held.by_base == {
        "https://one.invalid/api/v1": ["phon_a2"],
        "https://two.invalid/api/v1": ["phon_b1", "phon_b2"],
    }
    assert held.unknown == 0


def test_a_rental_request_without_a_recorded_outcome_may_have_rented(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    book = lifecycle.Book.open(path, "https://one.invalid/api/v1")
    for _ in range(4):
        book.renting(rental())
    book.rented("phon_a1")  # one rented
    book.answered(rental())  # one refused
    assert lifecycle.read(path).unknown == 2  # two went out and nobody knows what became of them


def test_a_refused_rental_through_the_guard_is_recorded_as_answered_and_a_timeout_is_not(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    headers = [("content-type", "application/json"), ("authorization", basic(PLACEHOLDER_ANY))]
    with MockServer(build()) as mock:
        base_url = mock.origin + "/api/v1"
        book = lifecycle.Book.open(path, base_url)
        secrets = Secrets("mock_admin_key", None, "basic")
        with Guard(base_url, secrets, Policy("full", 10), contract.today()) as guard:
            guard.before_rental, guard.on_rented, guard.on_answered = book.renting, book.rented, book.answered
            guard.forward(
                "POST", "/api/v1/phone_number/request/internal/", headers, b'{"country": "US", "prefix": "999"}'
            )
    assert [event["event"] for event in _events(path)] == ["run", "renting", "answered"]
    assert lifecycle.read(path).unknown == 0


@pytest.mark.parametrize(
    ("line", "number"), [("not json", 2), ('{"no": "event"}', 2), ("[1, 2]", 2), ('{"event": "rented"}', 2)]
)
def test_a_damaged_ledger_line_names_the_file_and_line(tmp_path: Path, line: str, number: int) -> None:
    path = tmp_path / "ledger.jsonl"
    path.write_text('{"event": "run", "base_url": "https://one.invalid"}\n' + line + "\n")
    with pytest.raises(LedgerError, match=f"{path}:{number}: not a ledger line"):
        lifecycle.read(path)


def test_a_ledger_that_cannot_be_read_or_written_is_a_ledger_error(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match=r"cannot read the ledger .*missing\.jsonl"):
        lifecycle.read(tmp_path / "missing.jsonl")
    (tmp_path / "a-file").write_text("")
    with pytest.raises(LedgerError, match=r"--ledger .*a-file/ledger\.jsonl"):
        lifecycle.Book.open(tmp_path / "a-file" / "ledger.jsonl", "https://one.invalid")
    (tmp_path / "a-folder.jsonl").mkdir()
    with pytest.raises(LedgerError, match=r"cannot write the ledger .*a-folder\.jsonl"):
        lifecycle.Book(tmp_path / "a-folder.jsonl", "https://one.invalid").write({"event": "run"})


def test_a_runs_ledger_is_in_its_report_folder_else_a_new_file_in_the_users_state_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert lifecycle.default_ledger(tmp_path / "report") == tmp_path / "report" / "ledger.jsonl"
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    made = lifecycle.default_ledger(None)
    assert made.parent == tmp_path / "state" / "close-conformance"
    assert made.name.startswith("ledger-")
    assert made.suffix == ".jsonl"
    assert made != lifecycle.default_ledger(None)  # each run a file of its own
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert lifecycle.default_ledger_dir() == tmp_path / "home" / ".local" / "state" / "close-conformance"


@pytest.mark.usefixtures("credentials")
def test_a_full_run_names_its_ledger_and_the_embedded_mock_leaves_none(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    with MockServer(build()) as mock:
        assert main(["--base-url", mock.origin + "/api/v1", *FULL[:-2], "--max-rentals", "3"]) == 0
    out = capsys.readouterr().out
    (made,) = (tmp_path / "state" / "close-conformance").glob("ledger-*.jsonl")
    assert f"still held 0); ledger {made}" in out  # where to look after a crash, said where it is read
    made.unlink()
    assert main(["--quiet", "--examples", "5"]) == 0  # the embedded mock: its numbers end with the run
    assert "ledger" not in capsys.readouterr().out
    assert list((tmp_path / "state" / "close-conformance").glob("*")) == []


def test_release_without_credentials_is_a_usage_error_and_touches_nothing(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text("")
    env = {k: v for k, v in os.environ.items() if k not in ("CLOSE_API_KEY", "CLOSE_BEARER_TOKEN")}
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "release", "--ledger", str(ledger)],
        capture_output=True, text=True, check=False, env=env, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    expected = (
        "close-conformance: set CLOSE_API_KEY and/or CLOSE_BEARER_TOKEN: the numbers are released with the "
        "credentials that rented them (for a mock: CLOSE_API_KEY=mock_admin_key)"
    )
    assert done.stderr.strip().splitlines() == [expected]
