"""`close-conformance`: does a server honour the contract? Exit 0 yes, 1 no, 2 could not test.

Subcommands, as users know them from other tools: `run` (the active check; bare
`close-conformance` is `run`), `replay` (recordings), `proxy` (live traffic), `diff` (two
reports), `release` (numbers a crashed full run left held). Every mistake a user can make ends
in one line on stderr and exit 2, through one error path (`ConformanceError`).
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

from conformance import contract as contracts
from conformance.errors import CannotTest, ConformanceError, UsageError
from conformance.suite import coverage as coverages
from conformance.suite.credentials import Secrets
from conformance.suite.engine import default_seed

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from conformance.suite.conclusion import Conclusion, Evidence, Settings, Source

DEFAULT_SEED = default_seed()
EXIT_OK, EXIT_VIOLATIONS, EXIT_CANNOT_TEST = 0, 1, 2
COMMANDS = ("run", "replay", "proxy", "diff", "release")
EXIT_TEXT = "Exit status: 0 conformant, 1 violations found, 2 could not test."


class Parser(argparse.ArgumentParser):
    """argparse, with a usage mistake raised as UsageError (one line, exit 2) instead of printed."""

    def error(self, message: str) -> NoReturn:
        """A usage mistake."""
        raise UsageError(f"{message} (see {self.prog} --help)")


def _run_options(cli: argparse.ArgumentParser) -> None:
    cli.add_argument("--base-url", help="API base, e.g. https://api.close.com/api/v1 (default: the embedded mock)")
    cli.add_argument(
        "--auth",
        choices=["basic", "bearer", "both"],
        help="scheme for valid requests (default: both when both are set)",
    )
    cli.add_argument(
        "--mode",
        choices=["safe", "full"],
        help="safe: never send a request that could rent; full: rent, up to --max-rentals",
    )
    cli.add_argument(
        "--max-rentals",
        type=int,
        metavar="N",
        help="with --mode full against a real server: rent at most N (each is released)",
    )
    cli.add_argument(
        "--examples", type=int, metavar="N", help="schemathesis examples per phase (default: the suite's toml, 210)"
    )
    cli.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed; runs are reproducible (default {DEFAULT_SEED})"
    )
    cli.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS", help="per request (default 10)")
    cli.add_argument(
        "--deadline", type=float, default=600.0, metavar="SECONDS",
        help="send nothing more after this long, release what was rented, report what was judged (default 600)",
    )  # fmt: skip
    cli.add_argument("--rate", type=float, metavar="N", help="at most N requests a second (429s are always waited out)")
    cli.add_argument(
        "--assignee", action="append", default=[], metavar="USER_ID",
        help="a user of your organization that valid requests may name in assign_to (repeatable)",
    )  # fmt: skip
    cli.add_argument(
        "--ledger", type=Path, metavar="PATH",
        help="full mode: record every rental here before it is sent, so `close-conformance release` can finish "
        "a crashed run (default: ledger.jsonl in --report-dir, else ~/.local/state/close-conformance/; none for "
        "the embedded mock without --report-dir)",
    )  # fmt: skip
    cli.add_argument("--quiet", action="store_true", help="no progress lines, only the summary")


def _verdict_options(cli: argparse.ArgumentParser) -> None:
    cli.add_argument(
        "--contract", default="today", metavar="PATH",
        help="the contract to check against: a file, or `today` (default) / `seed` for the packaged versions",
    )  # fmt: skip
    cli.add_argument("--junit-xml", type=Path, metavar="PATH", help="write JUnit XML here")
    cli.add_argument(
        "--report-dir", type=Path, metavar="DIR",
        help="write summary.txt, report.json, junit.xml, exchanges.har, report.html here",
    )  # fmt: skip
    cli.add_argument("--html", type=Path, metavar="PATH", help="write the HTML report here (also in --report-dir)")
    cli.add_argument(
        "--format", choices=["text", "github"], default="text",
        help="github: also print GitHub Actions annotations and append a Markdown job summary to $GITHUB_STEP_SUMMARY",
    )  # fmt: skip
    cli.add_argument(
        "--assumptions", choices=["fail", "warn"], default="fail",
        help="findings against the contract's own choices, where Close is silent: fail the run (default) or only warn",
    )  # fmt: skip
    cli.add_argument(
        "--baseline", type=Path, metavar="PATH",
        help="an earlier report.json or --write-baseline file: findings in it do not fail the run, new ones do",
    )  # fmt: skip
    cli.add_argument("--write-baseline", type=Path, metavar="PATH", help="write this run's findings as a baseline here")
    cli.add_argument(
        "--require-coverage", action="append", default=[], metavar="ITEMS",
        help="coverage the run must reach, else exit 1: a fraction (0.8, 80%%) or item names, patterns allowed "
        "(status:rent:429, refusal:*, field:assign_to, enum:carrier_type=tollfree, auth:bearer); repeatable",
    )  # fmt: skip


def parser() -> Parser:
    """The command line: the run's options at the top (bare `close-conformance` runs), and the subcommands."""
    description = (
        "Test whether a server honours the contract of Close's request-internal-phone-number endpoint. Without "
        "--base-url it tests the embedded mock. Credentials come from CLOSE_API_KEY (Basic) and CLOSE_BEARER_TOKEN "
        "(Bearer). Renting costs money: against any other server the default is --mode safe, which sends no request "
        "that names a country with numbers (every fault is aimed at Antarctica, where nobody can rent), so it rents "
        "nothing even on a lenient server; --mode full rents at most --max-rentals numbers, reads each back and "
        "releases it before the run ends."
    )
    root = Parser(prog="close-conformance", description=description, epilog=EXIT_TEXT)
    _run_options(root)
    _verdict_options(root)
    commands = root.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}", parser_class=Parser)
    run = commands.add_parser("run", help="check a server (the default)", description=description, epilog=EXIT_TEXT)
    _run_options(run)
    _verdict_options(run)
    replay = commands.add_parser(
        "replay", help="judge recordings (HAR, vcrpy/pytest-recording/schemathesis cassettes); sends nothing",
        description="Judge recorded traffic against the contract without sending anything: HAR 1.2 files, vcrpy and "
        "pytest-recording cassettes (YAML or JSON, files or folders), schemathesis cassettes. Exchanges with other "
        "endpoints are counted and skipped.",
        epilog="Exit status: 0 conformant, 1 violations found, 2 nothing to judge or a usage mistake.",
    )  # fmt: skip
    replay.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="recording files or folders of them")
    replay.add_argument(
        "--fail-on-credentials", action="store_true",
        help="a credential left in a recording is a violation (default: a warning; it is redacted either way)",
    )  # fmt: skip
    _verdict_options(replay)
    proxy = commands.add_parser(
        "proxy", help="judge your app's live traffic as it passes",
        description="A local reverse proxy for your app or test suite: point it here instead of the API (with or "
        "without /api/v1). Each request is forwarded unchanged and each exchange judged as it passes; violations are "
        "printed as they happen. Ctrl-C (SIGINT) or SIGTERM writes the report and exits.",
        epilog="Exit status: 0 conformant, 1 violations found, 2 nothing with the endpoint passed.",
    )  # fmt: skip
    proxy.add_argument(
        "--upstream", required=True, help="the API base to forward to, e.g. https://api.close.com/api/v1"
    )
    proxy.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, loopback only)")
    proxy.add_argument("--port", type=int, default=8010, help="port to listen on, 0-65535 (default 8010; 0 picks one)")
    proxy.add_argument(
        "--refuse-invalid", action="store_true",
        help="answer a request the contract forbids with the contract's 400 and never forward it (it cannot rent)",
    )  # fmt: skip
    proxy.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS", help="upstream timeout (default 60)")
    _verdict_options(proxy)
    diff = commands.add_parser(
        "diff", help="what changed between two reports", description="Compare two report.json (or baseline) files: "
        "findings new, gone and unchanged, and the change in coverage.",
        epilog="Exit status: 0 nothing new, 1 something new, 2 a file that cannot be read.",
    )  # fmt: skip
    diff.add_argument("old", type=Path, metavar="OLD.json")
    diff.add_argument("new", type=Path, metavar="NEW.json")
    diff.add_argument("--format", choices=["text", "github"], default="text", help="github: also a job summary")
    release = commands.add_parser(
        "release", help="release the numbers a crashed full run left held, from its ledger",
        description="Release every number a full run's ledger records as rented and not released (after a crash or "
        "kill -9). Credentials come from CLOSE_API_KEY / CLOSE_BEARER_TOKEN.",
        epilog="Exit status: 0 nothing is held any more, 1 some numbers could not be released, 2 a usage mistake.",
    )  # fmt: skip
    release.add_argument("--ledger", type=Path, required=True, metavar="PATH", help="the run's ledger file")
    release.add_argument("--base-url", help="release only what was rented from this base URL (default: every one)")
    release.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="per request (default 30)")
    return root


# -- checking what was asked -------------------------------------------------------------------


def _writable_file(option: str, path: Path | None) -> None:
    if path is None:
        return
    if path.is_dir():
        raise UsageError(f"{option} {path} is a directory; name a file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{option} {path}: {error.strerror}") from None
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"{option} {path} is not writable")


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse report paths that cannot be written, before anything is sent."""
    if args.report_dir is not None:
        if args.report_dir.exists() and not args.report_dir.is_dir():
            raise UsageError(f"--report-dir {args.report_dir} is a file, not a directory")
        try:
            args.report_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError(f"--report-dir {args.report_dir}: {error.strerror}") from None
        if not os.access(args.report_dir, os.W_OK):
            raise UsageError(f"--report-dir {args.report_dir} is not writable")
    for option in ("junit_xml", "html", "write_baseline", "ledger"):
        _writable_file("--" + option.replace("_", "-"), getattr(args, option, None))


def settings_from(args: argparse.Namespace, contract: contracts.Contract) -> Settings:
    """The verdict's settings: assumptions, baseline, the coverage gate (checked against the contract)."""
    from conformance.suite import baseline, checks
    from conformance.suite.conclusion import Settings

    wanted = coverages.requirement(args.require_coverage)
    empty = coverages.build(contract, coverages.Observed(), dict.fromkeys(checks.NAMES, 0))
    coverages.gate(empty, coverages.Requirement(wanted.patterns))  # an item that does not exist: a usage mistake
    accepted = baseline.load(args.baseline) if args.baseline is not None else None
    return Settings(args.assumptions, accepted, wanted)


def check_numbers(args: argparse.Namespace, mode: str) -> None:
    """Refuse numbers that make no sense."""
    if args.max_rentals is not None and args.max_rentals < 0:
        raise UsageError(f"--max-rentals must be 0 or more, not {args.max_rentals}")
    if args.max_rentals is not None and mode != "full":
        raise UsageError("--max-rentals goes with --mode full (safe mode rents nothing)")
    if args.examples is not None and args.examples < 1:
        raise UsageError("--examples must be at least 1")
    for name in ("timeout", "deadline", "rate"):
        value = getattr(args, name)
        if value is not None and not (value > 0 and value != float("inf")):
            unit = "requests a second" if name == "rate" else "seconds"
            raise UsageError(f"--{name} must be a positive number of {unit}")


def _contract(name: str) -> contracts.Contract:
    return contracts.named(name)


def options_from(args: argparse.Namespace) -> Any:
    """Check the arguments and environment together; raise UsageError on a mistake."""
    from conformance.suite import lifecycle
    from conformance.suite.runner import Options

    key = os.environ.get("CLOSE_API_KEY") or None
    token = os.environ.get("CLOSE_BEARER_TOKEN") or None
    embedded = args.base_url is None
    if not embedded:
        parts = urlsplit(args.base_url)
        if parts.username or parts.password:
            raise UsageError("--base-url must not contain credentials: set CLOSE_API_KEY or CLOSE_BEARER_TOKEN instead")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(
                f"--base-url must be an http(s) URL such as https://api.close.com/api/v1, not {args.base_url!r}"
            )
        operation = contracts.named(args.contract).rental.path.rstrip("/")
        if parts.path.rstrip("/").endswith(operation):
            raise UsageError(
                f"--base-url is the API's base, not the endpoint: {args.base_url[: -len(parts.path)]}"
                f"{parts.path.rstrip('/')[: -len(operation)] or '/api/v1'}, not {args.base_url}"
            )
        if not key and not token:
            raise UsageError("set CLOSE_API_KEY (Basic) and/or CLOSE_BEARER_TOKEN (Bearer) to test a real server")
    mode = args.mode or ("full" if embedded else "safe")
    if mode == "full" and not embedded and args.max_rentals is None:
        raise UsageError("--mode full against a real server rents numbers and costs money: add --max-rentals N")
    check_numbers(args, mode)
    check_outputs(args)
    auth = args.auth or ("both" if embedded or (key and token) else "basic" if key else "bearer")
    if not embedded and ((auth in ("basic", "both") and not key) or (auth in ("bearer", "both") and not token)):
        raise UsageError(f"--auth {auth} needs " + ("CLOSE_API_KEY" if not key else "CLOSE_BEARER_TOKEN"))
    # The embedded mock's numbers end with the run: its ledger only where one was asked for (no pile of files).
    ledger = args.ledger or (lifecycle.default_ledger(args.report_dir) if args.report_dir or not embedded else None)
    return Options(
        args.base_url, auth, mode, args.max_rentals, args.examples, args.seed, Secrets(key, token, auth),
        _contract(args.contract), timeout=args.timeout, deadline=args.deadline, rate=args.rate,
        assignees=tuple(args.assignee), ledger=ledger,
    )  # fmt: skip


# -- output --------------------------------------------------------------------------------------


def say(line: str) -> None:
    """Print a line of the result to stdout; a reader that went away (`| head`) stops the output, not the run."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        # Python's advice for SIGPIPE: point stdout at devnull so the flush at exit cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def finish(conclusion: Conclusion, args: argparse.Namespace) -> int:
    """Write the reports asked for, print the summary, and return the exit status."""
    from conformance.suite import baseline, report

    files = args.report_dir is not None
    text = report.summary(conclusion, files=files)
    if args.report_dir:  # the files first: a reader that closes stdout early must not lose them
        report.write(conclusion, args.report_dir, text)
    if args.junit_xml:
        args.junit_xml.write_bytes(report.junit(conclusion, files=files))
    if args.html:
        args.html.write_text(report.html(conclusion), encoding="utf-8")
    if args.write_baseline:
        record = report.record(conclusion, files=files)
        accepted = baseline.record(record["violations"], conclusion.evidence.verdicts.judged(), record["coverage"],
                                   conclusion.source.contract.version)  # fmt: skip
        import json

        args.write_baseline.write_text(json.dumps(accepted, indent=2) + "\n", encoding="utf-8")
    if conclusion.reason is not None:
        print(f"close-conformance: cannot test: {conclusion.reason}", file=sys.stderr)
    say(text)
    if args.format == "github":
        from conformance.suite import github

        github.write_summary(github.summary_markdown(conclusion))
        for line in github.workflow_commands(conclusion):
            say(line)
    return conclusion.exit_code


def _conclude(evidence: Evidence, args: argparse.Namespace, settings: Settings) -> int:
    from conformance.suite.conclusion import conclude

    return finish(conclude(evidence, settings), args)


def _cannot_test(source: Source, reason: str, args: argparse.Namespace, evidence: object = None) -> int:
    from conformance.suite import conclusion
    from conformance.suite.judge import Verdicts

    sent = evidence if isinstance(evidence, conclusion.Evidence) else None
    return finish(conclusion.cannot_test(source, reason, Verdicts(), sent), args)


# -- the subcommands ---------------------------------------------------------------------------


@contextlib.contextmanager
def _signals_set(stop: threading.Event, say_so: bool = False) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` (the run then releases what it rented and reports) instead of killing."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def stopping(*_: object) -> None:
        if say_so and not stop.is_set():
            print(
                "close-conformance: interrupted: sending nothing new, then releasing what was rented", file=sys.stderr
            )
        stop.set()

    for sig in previous:
        signal.signal(sig, stopping)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_main(args: argparse.Namespace) -> int:
    """`close-conformance [run]`: the active check."""
    from conformance.suite.runner import execute, source_of

    began = time.monotonic()

    def progress(line: str) -> None:
        if not args.quiet:
            print(f"[{time.monotonic() - began:5.1f}s] {line}", file=sys.stderr, flush=True)

    options = options_from(args)
    settings = settings_from(args, options.contract)
    progress(
        f"testing {options.base_url or 'the embedded mock'} in {options.mode} mode "
        f"against contract {options.contract.version} ({options.contract.path.name})"
    )
    stop = threading.Event()
    with _hypothesis_home(), _signals_set(stop, say_so=True):
        try:
            evidence = execute(options, progress, stop)
        except CannotTest as reason:
            source = source_of(options, options.base_url or "the embedded mock")
            return _cannot_test(source, str(reason), args, reason.evidence)
    if stop.is_set():
        evidence.interrupted = True
    return _conclude(evidence, args, settings)


def replay_main(args: argparse.Namespace) -> int:
    """`close-conformance replay PATH...`."""
    from conformance.suite import traffic
    from conformance.suite.conclusion import Source

    check_outputs(args)
    contract = _contract(args.contract)
    settings = settings_from(args, contract)
    try:
        evidence = traffic.replay(args.paths, contract, fail_on_credentials=args.fail_on_credentials)
    except CannotTest as reason:
        target = "recordings " + ", ".join(map(str, args.paths))
        return _cannot_test(Source("replay", target, "", contract, "recorded"), str(reason), args)
    return _conclude(evidence, args, settings)


def proxy_main(args: argparse.Namespace) -> int:
    """`close-conformance proxy --upstream URL`: serve until SIGINT/SIGTERM, then report."""
    from conformance.serving import is_loopback
    from conformance.suite.proxy import Proxy

    parts = urlsplit(args.upstream)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise UsageError(f"--upstream must be an http(s) URL without credentials, not {args.upstream!r}")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {args.port}")
    check_outputs(args)
    contract = _contract(args.contract)
    settings = settings_from(args, contract)

    def found(exchange: Any, key: str, message: str) -> None:
        first = message.strip().splitlines()[0][:200]
        say(f"VIOLATION {key}: {exchange.method} {exchange.path} -> {exchange.status}: {first}")

    try:
        proxy = Proxy(
            args.upstream, contract, host=args.host, port=args.port, refuse_invalid=args.refuse_invalid,
            timeout=args.timeout, on_finding=found,
        )  # fmt: skip
    except OSError as error:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {error.strerror}") from None
    if not is_loopback(args.host):
        print(f"close-conformance: WARNING: listening on {args.host} exposes the proxy beyond this machine.",
              file=sys.stderr)  # fmt: skip
    if not parts.path.strip("/"):
        print(f"close-conformance: WARNING: --upstream {args.upstream} has no base path; Close's API is under "
              "/api/v1 (https://api.close.com/api/v1): your app must then send /api/v1/... itself",
              file=sys.stderr)  # fmt: skip
    stop = threading.Event()
    with _signals_set(stop), proxy:
        prefix = urlsplit(args.upstream).path.rstrip("/")
        say(
            f"close-conformance proxy: listening on {proxy.origin}, forwarding to {args.upstream}; give your app "
            f"the base URL {proxy.origin}{prefix} (or {proxy.origin})"
        )
        stop.wait()
    return _conclude(proxy.evidence(), args, settings)


def diff_main(args: argparse.Namespace) -> int:
    """`close-conformance diff OLD NEW`: exit 1 when something is new."""
    from conformance.suite import baseline

    old, new = baseline.load(args.old), baseline.load(args.new)
    difference = baseline.diff(old, new)
    text = baseline.diff_text(difference, old, new)
    say(text)
    if args.format == "github":
        from conformance.suite import github

        github.write_summary("## close-conformance: what changed\n\n```\n" + text + "\n```\n")
    return EXIT_VIOLATIONS if difference.new else EXIT_OK


def release_main(args: argparse.Namespace) -> int:
    """`close-conformance release --ledger PATH`."""
    from conformance.suite import lifecycle
    from conformance.suite.guard import Guard, Policy

    key = os.environ.get("CLOSE_API_KEY") or None
    token = os.environ.get("CLOSE_BEARER_TOKEN") or None
    if not args.ledger.is_file():
        raise UsageError(f"--ledger {args.ledger}: no such file")
    if not key and not token:  # the ones that rented: never a guess, not even the mock's published ones
        raise UsageError("set CLOSE_API_KEY and/or CLOSE_BEARER_TOKEN: the numbers are released with the credentials "
                         "that rented them (for a mock: CLOSE_API_KEY=mock_admin_key)")  # fmt: skip
    secrets = Secrets(key, token, "basic" if key else "bearer")

    def guard_for(base_url: str) -> Guard:
        return Guard(base_url, secrets, Policy("full", 0, args.timeout), _contract("today"))

    return lifecycle.release(args.ledger, args.base_url, guard_for, say)


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": run_main, "replay": replay_main, "proxy": proxy_main, "diff": diff_main, "release": release_main,
}  # fmt: skip


def _with_command(argv: list[str]) -> list[str]:
    """Bare options mean `run`; a word that is no command is a mistake, with a did-you-mean."""
    if not argv or argv[0].startswith("-"):
        return argv if argv[:1] in (["-h"], ["--help"]) else ["run", *argv]
    if argv[0] not in COMMANDS:
        close = difflib.get_close_matches(argv[0], COMMANDS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; commands: {', '.join(COMMANDS)}"
        raise UsageError(f"unknown command {argv[0]!r}{hint}")
    return argv


def main(argv: list[str] | None = None) -> int:
    """Entry point of close-conformance and `python -m conformance`."""
    try:
        args = parser().parse_args(_with_command(list(sys.argv[1:] if argv is None else argv)))
        return HANDLERS[args.command or "run"](args)
    except ConformanceError as error:
        print(f"close-conformance: {error}", file=sys.stderr)
        return EXIT_CANNOT_TEST
    except KeyboardInterrupt:
        print("close-conformance: interrupted", file=sys.stderr)
        return EXIT_CANNOT_TEST


@contextlib.contextmanager
def _hypothesis_home() -> Iterator[None]:
    """Keep hypothesis' working files out of the user's current directory."""
    from hypothesis import configuration

    previous = vars(configuration).get("__hypothesis_home_directory")
    with tempfile.TemporaryDirectory(prefix="close-conformance-") as home:
        configuration.set_hypothesis_home_dir(home)
        try:
            yield
        finally:
            configuration.set_hypothesis_home_dir(previous)


if __name__ == "__main__":
    sys.exit(main())
