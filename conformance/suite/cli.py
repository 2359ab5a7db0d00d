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
from conformance.suite.runner import CannotTest, Options, execute

if TYPE_CHECKING:
    from collections.abc import Iterator

DEFAULT_SEED = 20261127
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
        epilog="Exit status: 0 conformant, 1 violations found, 2 could not test.",
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
        timeout=args.timeout, deadline=args.deadline, rate=args.rate,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Entry point of close-conformance and `python -m conformance`."""
    args = parser().parse_args(argv)
    started = time.monotonic()

    def progress(line: str) -> None:
        if not args.quiet:
            print(f"[{time.monotonic() - started:5.1f}s] {line}", file=sys.stderr, flush=True)

    from conformance.suite import report as reports

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
        print(f"close-conformance: cannot test: {why}", file=sys.stderr)
        if checked:  # the report paths were checked: CI gets a record of why nothing was judged
            reports.write_cannot_test(why, args.report_dir, args.junit_xml)
        return EXIT_CANNOT_TEST
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(result.target))
    text = reports.summary(result, origin)
    print(text)
    print(f"({time.monotonic() - started:.1f} s)")
    if args.report_dir:
        reports.write(result, args.report_dir, text)
    if args.junit_xml:
        args.junit_xml.write_bytes(reports.junit(result, origin))
    return EXIT_VIOLATIONS if result.violations else EXIT_OK


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
