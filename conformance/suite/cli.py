"""`close-conformance`: does a server honour the contract? Exit 0 yes, 1 no, 2 could not test."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from conformance import contract as contracts
from conformance.suite.guard import Secrets
from conformance.suite.runner import CannotTest, Options, execute

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
    cli.add_argument("--quiet", action="store_true", help="no progress lines, only the summary")
    return cli


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
    if args.max_rentals is not None and (mode != "full" or args.max_rentals < 0):
        raise CannotTest("--max-rentals N (N >= 0) goes with --mode full")
    if args.examples is not None and args.examples < 1:
        raise CannotTest("--examples must be at least 1")
    auth = args.auth or ("both" if embedded or (key and token) else "basic" if key else "bearer")
    if not embedded and ((auth in ("basic", "both") and not key) or (auth in ("bearer", "both") and not token)):
        raise CannotTest(f"--auth {auth} needs " + ("CLOSE_API_KEY" if not key else "CLOSE_BEARER_TOKEN"))
    try:
        chosen = contracts.named(args.contract)
    except contracts.ContractError as error:
        raise CannotTest(str(error)) from None
    secrets = Secrets(key, token, auth)
    return Options(args.base_url, auth, mode, args.max_rentals, args.examples, args.seed, secrets, chosen)


def main(argv: list[str] | None = None) -> int:
    """Entry point of close-conformance and `python -m conformance`."""
    args = parser().parse_args(argv)
    started = time.monotonic()

    def progress(line: str) -> None:
        if not args.quiet:
            print(f"[{time.monotonic() - started:5.1f}s] {line}", file=sys.stderr, flush=True)

    from conformance.suite import report as reports

    try:
        options = options_from(args)
        progress(
            f"testing {options.base_url or 'the embedded mock'} in {options.mode} mode "
            f"against contract {options.contract.version} ({options.contract.path.name})"
        )
        result = execute(options, progress)
    except CannotTest as reason:
        print(f"close-conformance: cannot test: {reason}", file=sys.stderr)
        return EXIT_CANNOT_TEST
    except KeyboardInterrupt:
        print("close-conformance: interrupted", file=sys.stderr)
        return EXIT_CANNOT_TEST
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(result.target))
    text = reports.summary(result, origin)
    print(text)
    print(f"({time.monotonic() - started:.1f} s)")
    if args.report_dir:
        reports.write(result, args.report_dir, text)
    if args.junit_xml:
        args.junit_xml.parent.mkdir(parents=True, exist_ok=True)
        args.junit_xml.write_bytes(reports.junit(result))
    return EXIT_VIOLATIONS if result.violations else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
