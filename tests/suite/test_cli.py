"""close-conformance as a user meets it: exit codes, one-line errors, reports, determinism."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from conformance.suite.cli import main
from tests.mock.servers import free_port


def test_the_default_run_tests_the_embedded_mock_and_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--report-dir", str(tmp_path), "--junit-xml", str(tmp_path / "ci" / "junit.xml")])
    out, err = capsys.readouterr()
    assert code == 0, out
    assert "Result: CONFORMANT" in out
    assert "(embedded mock)" in out
    assert "fuzzing" in err  # progress went to stderr
    record = json.loads((tmp_path / "report.json").read_text())
    har = json.loads((tmp_path / "exchanges.har").read_text())
    # The HAR holds every exchange: its 201s are exactly the rentals the mock's own books hold.
    har_rentals = [e for e in har["log"]["entries"] if e["response"]["status"] == 201]
    assert len(har_rentals) == record["accounting"]["rentals"]
    requests = record["requests"]
    assert len(har["log"]["entries"]) == requests["exchanges"]  # every exchange, and nothing never sent
    # The Requests line adds up: probes, follow-ups and generated requests are what was sent.
    sent = re.search(r"Requests: (\d+) sent \((\d+) fixed probes, (\d+) follow-ups, (\d+) generated\)", out)
    assert sent, out
    total, probes, follow_ups, generated = map(int, sent.groups())
    assert total == probes + follow_ups + generated == requests["exchanges"]
    assert (probes, follow_ups) == (requests["probes"], requests["follow_ups"])
    assert generated > 100
    assert all(e["response"]["status"] for e in har["log"]["entries"])
    assert har["log"]["entries"][1]["request"]["url"].startswith("http://127.0.0.1:")
    assert record["conformant"] is True
    assert requests["business_reached"] > 50
    assert record["accounting"]["consistent"] is True
    assert requests["answered"] >= 300
    assert len(record["rentals"]) == record["accounting"]["rentals"] > 0
    # Whatever it rents, it releases: every rental read back and released.
    lifecycle = record["lifecycle"]
    assert lifecycle["held"] == []
    assert lifecycle["released"] == lifecycle["rented"] == len(record["rentals"])
    junit = ET.parse(tmp_path / "ci" / "junit.xml").getroot()  # noqa: S314 - our own file
    assert int(junit.get("tests", "0")) >= 20
    assert junit.get("failures") == "0"


def test_runs_are_deterministic_for_a_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = []
    for name in ("a", "b"):
        assert main(["--quiet", "--examples", "20", "--report-dir", str(tmp_path / name)]) == 0
        record = json.loads((tmp_path / name / "report.json").read_text())
        runs.append((record["checks"], record["requests"]["answered"], len(record["rentals"])))
    assert runs[0] == runs[1]


def test_an_unreachable_server_is_exit_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLOSE_API_KEY", "whatever_key")
    code = main(["--base-url", f"http://127.0.0.1:{free_port()}/api/v1"])
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot reach" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--base-url", "ftp://example.invalid/api/v1"], {"CLOSE_API_KEY": "k" * 10}, "http(s) URL"),
        (["--base-url", "http://key:@127.0.0.1:9/api/v1"], {}, "must not contain credentials"),
        (["--base-url", "http://127.0.0.1:9/api/v1"], {}, "CLOSE_API_KEY"),
        (["--base-url", "http://127.0.0.1:9/api/v1", "--mode", "full"], {"CLOSE_API_KEY": "k" * 10}, "--max-rentals"),
        (["--mode", "safe", "--max-rentals", "3"], {}, "goes with --mode full"),
        (["--examples", "0"], {}, "at least 1"),
        (
            ["--base-url", "http://127.0.0.1:9/api/v1", "--auth", "bearer"],
            {"CLOSE_API_KEY": "k" * 10},
            "CLOSE_BEARER_TOKEN",
        ),
    ],
)
def test_usage_mistakes_are_exit_2_with_a_clear_line(
    argv: list[str],
    env: dict[str, str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_python_dash_m_conformance_is_the_same_command_and_its_help_lists_the_subcommands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "conformance", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "--max-rentals" in result.stdout
    assert "Exit status: 0 conformant, 1 violations found, 2 could not test" in " ".join(result.stdout.split())
    assert "{run,replay,proxy,diff,release}" in result.stdout
    for command in ("replay", "proxy", "diff", "release"):
        assert f"    {command} " in result.stdout


@pytest.mark.parametrize(("argv", "message"), [
    (["replya", "x.har"], "did you mean 'replay'?"),
    (["proxi"], "did you mean 'proxy'?"),
    (["frobnicate"], "commands: run, replay, proxy, diff, release"),
    (["--mode", "sometimes"], "invalid choice"),
    (["replay"], "the following arguments are required: PATH"),
    (["diff", "only-one.json"], "the following arguments are required"),
])  # fmt: skip
def test_a_mistyped_command_or_option_is_one_line_and_exit_2(argv, message, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_each_subcommand_has_its_own_help(capsys) -> None:
    for command in ("run", "replay", "proxy", "diff", "release"):
        with pytest.raises(SystemExit) as done:
            main([command, "--help"])
        assert done.value.code == 0
        assert f"close-conformance {command}" in capsys.readouterr().out


def test_safe_mode_against_the_embedded_mock_reports_what_it_could_not_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--mode", "safe", "--quiet", "--examples", "20"]) == 0
    out = capsys.readouterr().out
    assert "Not checked:" in out
    assert "Rentals: 0" in out


def test_long_runs_print_progress_with_request_and_rental_counts() -> None:
    from types import SimpleNamespace

    from conformance.suite.runner import _ticker

    lines: list[str] = []
    guard = SimpleNamespace(ledger=SimpleNamespace(exchanges=[1, 2, 3]), rentals=2)
    tick = _ticker(guard, lines.append, every=0.0)  # type: ignore[arg-type]
    tick(None)  # type: ignore[arg-type]
    assert lines == ["    ... 3 requests so far, 2 rentals"]
