"""`close-conformance`: does a server honour the contract? Exit 0 yes, 1 no, 2 could not test."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from conformance import contract as contracts
from conformance.suite.credentials import Secrets
from conformance.suite.engine import default_seed
from conformance.suite.runner import CannotTest, Options, Report, execute

if TYPE_CHECKING:
    from collections.abc import Iterator

    from conformance.suite.exchange import Exchange

DEFAULT_SEED = default_seed()
EXIT_OK, EXIT_VIOLATIONS, EXIT_CANNOT_TEST = 0, 1, 2


def parser() -> argparse.ArgumentParser:
    """The command line."""
    cli = argparse.ArgumentParser(
        prog="close-conformance",
        description=(
            "Test whether a server honours the contract of Close's request-internal-phone-number endpoint. "
            "Without --base-url it tests the embedded mock. Credentials come from CLOSE_API_KEY (Basic) and "
            "CLOSE_BEARER_TOKEN (Bearer). Renting costs money: against any other server the default is "
            "--mode safe, which sends no request that names a country with numbers (every fault is aimed at "
            "Antarctica, where nobody can rent), so it rents nothing even on a lenient server."
        ),
        epilog=(
            "Exit status: 0 conformant, 1 violations found, 2 could not test. Also: `close-conformance replay "
            "PATH...` judges recordings (HAR, vcrpy/pytest-recording/schemathesis cassettes) without sending "
            "anything; `close-conformance proxy --upstream URL` judges your app's live traffic."
        ),
    )
    cli.add_argument("--base-url", help="API base, e.g. https://api.close.com/api/v1 (default: the embedded mock)")
    cli.add_argument(
        "--auth",
        choices=["basic", "bearer", "both"],
        help="scheme for valid requests (default: both when both credentials are set)",
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
        help="with --mode full against a real server: stop renting after N",
    )
    cli.add_argument(
        "--examples",
        type=int,
        metavar="N",
        help="schemathesis examples per phase (default: max-examples of the suite's schemathesis.toml, 210)",
    )
    cli.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"random seed; runs are reproducible (default {DEFAULT_SEED})",
    )
    _output_options(cli)
    cli.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="give up on one request after this long; it counts as a server failure (default 10)",
    )
    cli.add_argument(
        "--deadline",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="send nothing more after this long and report what was judged (default 600)",
    )
    cli.add_argument(
        "--rate",
        type=float,
        metavar="N",
        help="send at most N requests a second (default: as fast as the server allows; 429s are always waited out)",
    )
    cli.add_argument(
        "--assignee",
        action="append",
        default=[],
        metavar="USER_ID",
        help=(
            "a user of your organization that valid requests may name in `assign_to` (repeatable), so who a "
            "number belongs to after assign_to is checked (default for the embedded mock: its member)"
        ),
    )
    cli.add_argument("--quiet", action="store_true", help="no progress lines, only the summary")
    return cli


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse report paths that cannot be written, before anything is sent (CannotTest, exit 2)."""
    if args.report_dir is not None:
        if args.report_dir.exists() and not args.report_dir.is_dir():
            raise CannotTest(f"--report-dir {args.report_dir} is a file, not a directory")
        try:
            args.report_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CannotTest(f"--report-dir {args.report_dir}: {error.strerror}") from None
        if not os.access(args.report_dir, os.W_OK):
            raise CannotTest(f"--report-dir {args.report_dir} is not writable")
    if args.junit_xml is not None:
        if args.junit_xml.is_dir():
            raise CannotTest(f"--junit-xml {args.junit_xml} is a directory; name a file")
        parent = args.junit_xml.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CannotTest(f"--junit-xml {args.junit_xml}: {error.strerror}") from None
        if not os.access(parent, os.W_OK) or (args.junit_xml.exists() and not os.access(args.junit_xml, os.W_OK)):
            raise CannotTest(f"--junit-xml {args.junit_xml} is not writable")


def check_numbers(args: argparse.Namespace, mode: str) -> None:
    """Refuse numbers that make no sense (CannotTest, exit 2)."""
    if args.max_rentals is not None and args.max_rentals < 0:
        raise CannotTest(f"--max-rentals must be 0 or more, not {args.max_rentals}")
    if args.max_rentals is not None and mode != "full":
        raise CannotTest("--max-rentals goes with --mode full (safe mode rents nothing)")
    if args.examples is not None and args.examples < 1:
        raise CannotTest("--examples must be at least 1")
    for name in ("timeout", "deadline", "rate"):
        value = getattr(args, name)
        if value is not None and not (value > 0 and value != float("inf")):
            unit = "requests a second" if name == "rate" else "seconds"
            raise CannotTest(f"--{name} must be a positive number of {unit}")


def options_from(args: argparse.Namespace) -> Options:
    """Check the arguments and environment together; raise CannotTest (usage) on a mistake."""
    key = os.environ.get("CLOSE_API_KEY") or None
    token = os.environ.get("CLOSE_BEARER_TOKEN") or None
    embedded = args.base_url is None
    if not embedded:
        parts = urlsplit(args.base_url)
        if parts.username or parts.password:
            raise CannotTest("--base-url must not contain credentials: set CLOSE_API_KEY or CLOSE_BEARER_TOKEN instead")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CannotTest(
                f"--base-url must be an http(s) URL such as https://api.close.com/api/v1, not {args.base_url!r}"
            )
        if not key and not token:
            raise CannotTest("set CLOSE_API_KEY (Basic) and/or CLOSE_BEARER_TOKEN (Bearer) to test a real server")
    mode = args.mode or ("full" if embedded else "safe")
    if mode == "full" and not embedded and args.max_rentals is None:
        raise CannotTest("--mode full against a real server rents numbers and costs money: add --max-rentals N")
    check_numbers(args, mode)
    check_outputs(args)
    auth = args.auth or ("both" if embedded or (key and token) else "basic" if key else "bearer")
    if not embedded and ((auth in ("basic", "both") and not key) or (auth in ("bearer", "both") and not token)):
        raise CannotTest(f"--auth {auth} needs " + ("CLOSE_API_KEY" if not key else "CLOSE_BEARER_TOKEN"))
    try:
        chosen = contracts.named(args.contract)
    except contracts.ContractError as error:
        raise CannotTest(str(error)) from None
    secrets = Secrets(key, token, auth)
    return Options(
        args.base_url, auth, mode, args.max_rentals, args.examples, args.seed, secrets, chosen,
        timeout=args.timeout, deadline=args.deadline, rate=args.rate, assignees=tuple(args.assignee),
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Entry point of close-conformance and `python -m conformance`: the active run, or `replay` / `proxy`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "replay":
        return replay_main(argv[1:])
    if argv and argv[0] == "proxy":
        return proxy_main(argv[1:])
    if argv and argv[0] == "run":
        argv = argv[1:]
    args = parser().parse_args(argv)
    started = time.monotonic()

    def progress(line: str) -> None:
        if not args.quiet:
            print(f"[{time.monotonic() - started:5.1f}s] {line}", file=sys.stderr, flush=True)

    checked = False
    try:
        with _hypothesis_home():
            options = options_from(args)
            checked = True
            progress(
                f"testing {options.base_url or 'the embedded mock'} in {options.mode} mode "
                f"against contract {options.contract.version} ({options.contract.path.name})"
            )
            result = execute(options, progress)
    except (CannotTest, KeyboardInterrupt) as reason:
        why = str(reason) if isinstance(reason, CannotTest) else "interrupted"
        if checked:  # the report paths were checked: CI gets a record of why nothing was judged
            return cannot_test(why, args)
        print(f"close-conformance: cannot test: {why}", file=sys.stderr)
        return EXIT_CANNOT_TEST
    return finish(result, args, started)


def say(line: str) -> None:
    """Print a line of the result to stdout; a reader that went away (`| head`) stops the output, not the run."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        # Python's advice for SIGPIPE: point stdout at devnull so the flush at exit cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def finish(report: Report, args: argparse.Namespace, started: float) -> int:
    """Print the summary, write the reports asked for, and return the exit status (0 or 1)."""
    from conformance.suite import report as reports

    origin = report.origin or "{0.scheme}://{0.netloc}".format(urlsplit(report.target))
    text = reports.summary(report, origin)
    if args.report_dir:  # the files first: a reader that closes stdout early must not lose them
        reports.write(report, args.report_dir, text)
    if args.junit_xml:
        args.junit_xml.write_bytes(reports.junit(report, origin))
    say(text)
    say(f"({time.monotonic() - started:.1f} s)")
    if args.format == "github":
        from conformance.suite import github

        github.write_summary(github.summary_markdown(report))
        for line in github.workflow_commands(report):
            say(line)
    return EXIT_VIOLATIONS if report.violations else EXIT_OK


def cannot_test(reason: str, args: argparse.Namespace) -> int:
    """Say why in one line, write the reports of a run that could not test, and return 2."""
    from conformance.suite import report as reports

    print(f"close-conformance: cannot test: {reason}", file=sys.stderr)
    reports.write_cannot_test(reason, args.report_dir, args.junit_xml)
    if getattr(args, "format", "text") == "github":
        from conformance.suite import github

        say(f"::error title=close-conformance::{github.escape('Could not test: ' + reason)}")
        github.write_summary(github.cannot_test_markdown(reason))
    return EXIT_CANNOT_TEST


def _format_option(cli: argparse.ArgumentParser) -> None:
    cli.add_argument(
        "--format",
        choices=["text", "github"],
        default="text",
        help="github: also print GitHub Actions annotations and append a Markdown job summary to $GITHUB_STEP_SUMMARY",
    )


def _output_options(cli: argparse.ArgumentParser) -> None:
    _format_option(cli)
    cli.add_argument(
        "--contract",
        default="today",
        metavar="PATH",
        help="the contract to check against: a file, or `today` (default) / `seed` for the packaged versions",
    )
    cli.add_argument("--junit-xml", type=Path, metavar="PATH", help="write JUnit XML here")
    cli.add_argument(
        "--report-dir", type=Path, metavar="DIR", help="write summary.txt, report.json, junit.xml, exchanges.har here"
    )


def replay_parser() -> argparse.ArgumentParser:
    """The command line of `close-conformance replay`."""
    cli = argparse.ArgumentParser(
        prog="close-conformance replay",
        description=(
            "Judge recorded traffic against the contract without sending anything: HAR 1.2 files, vcrpy and "
            "pytest-recording cassettes (YAML or JSON, files or folders), schemathesis cassettes. Exchanges "
            "with other endpoints are counted and skipped."
        ),
        epilog="Exit status: 0 conformant, 1 violations found, 2 nothing to judge or a usage mistake.",
    )
    cli.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="recording files or folders of them")
    cli.add_argument(
        "--fail-on-credentials",
        action="store_true",
        help="a credential left in a recording is a violation (default: a warning; it is redacted either way)",
    )
    _output_options(cli)
    return cli


def replay_main(argv: list[str]) -> int:
    """`close-conformance replay PATH...`."""
    from conformance.suite import traffic

    args = replay_parser().parse_args(argv)
    started = time.monotonic()
    try:
        check_outputs(args)
    except CannotTest as error:  # the report paths themselves are the problem: nowhere to write
        print(f"close-conformance: cannot test: {error}", file=sys.stderr)
        return EXIT_CANNOT_TEST
    try:
        contract = contracts.named(args.contract)
        report = traffic.replay(args.paths, contract, fail_on_credentials=args.fail_on_credentials)
    except (contracts.ContractError, CannotTest) as error:
        return cannot_test(str(error), args)
    return finish(report, args, started)


def proxy_parser() -> argparse.ArgumentParser:
    """The command line of `close-conformance proxy`."""
    cli = argparse.ArgumentParser(
        prog="close-conformance proxy",
        description=(
            "A local reverse proxy for your app or test suite: point it here instead of the API. Each request "
            "is forwarded unchanged and each exchange judged as it passes; violations are printed as they "
            "happen. Ctrl-C (SIGINT) or SIGTERM writes the report and exits."
        ),
        epilog="Exit status: 0 conformant, 1 violations found, 2 nothing with the endpoint passed.",
    )
    cli.add_argument("--upstream", required=True, help="the API base to forward to, e.g. https://api.close.com/api/v1")
    cli.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, loopback only)")
    cli.add_argument("--port", type=int, default=8010, help="port to listen on, 0-65535 (default 8010; 0 picks one)")
    cli.add_argument(
        "--refuse-invalid",
        action="store_true",
        help="answer a request the contract forbids with the contract's 400 and never forward it (it cannot rent)",
    )
    cli.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS", help="upstream timeout (default 60)")
    _output_options(cli)
    return cli


def proxy_main(argv: list[str]) -> int:
    """`close-conformance proxy --upstream URL`: serve until SIGINT/SIGTERM, then report."""
    import signal
    import threading

    from conformance.mock.cli import is_loopback
    from conformance.suite.proxy import Proxy

    args = proxy_parser().parse_args(argv)
    started = time.monotonic()
    parts = urlsplit(args.upstream)
    problem = None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        problem = f"--upstream must be an http(s) URL without credentials, not {args.upstream!r}"
    elif not 0 <= args.port <= 65535:
        problem = f"--port must be between 0 and 65535, not {args.port}"
    try:
        check_outputs(args)
        contract = contracts.named(args.contract)
    except (CannotTest, contracts.ContractError) as error:
        problem = problem or str(error)
    if problem is not None:
        print(f"close-conformance: {problem}", file=sys.stderr)
        return EXIT_CANNOT_TEST

    def found(exchange: Exchange, check: str, message: str) -> None:
        first = message.strip().splitlines()[0][:200]
        say(f"VIOLATION {check}: {exchange.method} {exchange.path} -> {exchange.status}: {first}")

    try:
        proxy = Proxy(
            args.upstream, contract, host=args.host, port=args.port, refuse_invalid=args.refuse_invalid,
            timeout=args.timeout, on_finding=found,
        )  # fmt: skip
    except OSError as error:
        print(f"close-conformance: cannot listen on {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
        return EXIT_CANNOT_TEST
    if not is_loopback(args.host):
        print(f"close-conformance: WARNING: listening on {args.host} exposes the proxy beyond this machine.",
              file=sys.stderr)  # fmt: skip
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with proxy:
        say(f"close-conformance proxy: listening on {proxy.origin}, forwarding to {args.upstream}")
        stop.wait()
    try:
        report = proxy.report()
    except CannotTest as error:
        return cannot_test(str(error), args)
    return finish(report, args, started)


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
