"""`close-mock serve`: run the mock under uvicorn.

Every mistake a user can make (an option, a scenario, a state file, a port that cannot be bound)
is a `ConformanceError` and ends in one line on stderr and exit 2, through one error path.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn
from uvicorn.supervisors import Multiprocess

from conformance.contract import GENERATIONS
from conformance.errors import ConformanceError, UsageError
from conformance.mock import scenario as scenarios
from conformance.mock.app import CONTROLS, build_app, describe_controls, describe_endpoints
from conformance.mock.store import SqliteStore
from conformance.serving import SERVER_OPTIONS, is_loopback, listen

if TYPE_CHECKING:
    import socket
    from collections.abc import Iterator


def parser() -> argparse.ArgumentParser:
    """The command line of close-mock."""
    root = argparse.ArgumentParser(
        prog="close-mock",
        description="A stateful mock of Close's request-internal-phone-number endpoint and a number's GET and DELETE.",
    )
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the mock over HTTP", description="Serve the mock over HTTP.")
    serve.set_defaults(subcommand_parser=serve)  # for usage errors argparse leaves to the top level (see `parse`)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback only)")
    serve.add_argument(
        "--port", type=int, default=8000, help="port to bind, 0-65535 (default 8000; 0 picks a free one)"
    )
    serve.add_argument("--scenario", type=Path, help="scenario YAML file (default: the packaged scenario)")
    serve.add_argument("--state", type=Path, help="keep rentals in this SQLite file (survives restarts)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (more than 1 needs --state)")
    serve.add_argument(
        "--rate-limit", type=int, metavar="N", help="answer 429 past N requests per second and credential (per worker)"
    )
    serve.add_argument(
        "--generation",
        choices=GENERATIONS,
        help="emulate today's endpoint or the seed-era one (default: the scenario's `generation`, else today)",
    )
    serve.add_argument(
        "--choice",
        action="append",
        default=[],
        metavar="CHOICE=READING",
        help="follow another reading of one of the contract's choices, e.g. delete-success-body=no-content "
        "(repeatable; default: the scenario's `choices`, else the contract's own readings)",
    )
    serve.add_argument("--no-controls", action="store_true", help=f"switch off the test controls under {CONTROLS}")
    serve.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn's log level (default warning); the mock never logs credentials",
    )
    return root


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line; a mistake in a subcommand's options shows that subcommand's usage.

    (argparse leaves options a subcommand does not know to the top-level parser, which would
    print the top-level usage: `close-mock serve --prot 9000` must show `serve`'s.)
    """
    args, unknown = parser().parse_known_args(argv)
    if unknown:
        args.subcommand_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def requested_choices(args: argparse.Namespace) -> dict[str, str]:
    """`--choice CHOICE=READING` options as a mapping, or UsageError."""
    found: dict[str, str] = {}
    for option in args.choice:
        choice_id, equals, reading = option.partition("=")
        if not equals or not choice_id or not reading:
            raise UsageError(f"--choice takes CHOICE=READING (e.g. delete-success-body=no-content), not {option!r}")
        found[choice_id.strip()] = reading.strip()
    return found


def check(args: argparse.Namespace) -> scenarios.Scenario:
    """Check the arguments together and load the scenario, or raise a ConformanceError saying what is wrong."""
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {args.port}")
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.rate_limit is not None and args.rate_limit < 1:
        raise UsageError("--rate-limit must be at least 1 request per second")
    if args.workers > 1 and args.state is None:
        raise UsageError("several workers must share state: add --state FILE")
    if args.state is not None:
        SqliteStore(args.state).close()  # opened once here, so a bad file is refused before serving
    scenario = scenarios.load(args.scenario)
    if args.generation is not None:
        scenario = dataclasses.replace(scenario, generation=args.generation)
    return scenario.with_choices(requested_choices(args), given_as="--choice")


def bind(args: argparse.Namespace) -> socket.socket:
    """The listening socket, or UsageError naming the address that cannot be bound."""
    try:
        return listen(args.host, args.port)
    except OSError as error:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {error.strerror}") from None


@contextlib.contextmanager
def worker_settings(args: argparse.Namespace) -> Iterator[None]:
    """Hand the settings to worker processes through CLOSE_MOCK_* variables, restored afterwards."""
    settings = {
        "CLOSE_MOCK_SCENARIO": str(args.scenario.resolve()) if args.scenario else "",
        "CLOSE_MOCK_STATE": str(args.state.resolve()) if args.state else "",
        "CLOSE_MOCK_CONTROLS": "0" if args.no_controls else "1",
        "CLOSE_MOCK_RATE_LIMIT": str(args.rate_limit) if args.rate_limit else "",
        "CLOSE_MOCK_GENERATION": args.generation or "",
        "CLOSE_MOCK_CHOICES": json.dumps(requested_choices(args)) if args.choice else "",
    }
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _serve(args: argparse.Namespace, scenario: scenarios.Scenario, sock: socket.socket) -> None:
    """Say what is served, then serve until stopped."""
    if not is_loopback(args.host):
        print(
            f"close-mock: WARNING: binding to {args.host} exposes the mock and its published test "
            "credentials beyond this machine.",
            file=sys.stderr,
        )
    print(
        f"close-mock: scenario {scenario.name} ({scenario.generation}'s endpoint, contract "
        f"{scenario.contract.version}); state {'in ' + str(args.state) if args.state else 'in memory'}"
    )
    print("close-mock: accepts " + "; ".join(scenario.credential_names()))
    readings = scenario.readings()
    if readings.differing():
        picked = ", ".join(f"{choice}={reading}" for choice, reading in readings.differing().items())
        print(f"close-mock: follows other readings than the contract's: {picked}")
    if not args.no_controls:
        print(f"close-mock: test controls: {describe_controls()}")
    port = sock.getsockname()[1]
    workers = f" with {args.workers} workers" if args.workers > 1 else ""
    print(f"close-mock: listening on http://{args.host}:{port}/api/v1 ({describe_endpoints()}){workers}", flush=True)
    if args.workers > 1:
        config = uvicorn.Config(
            "conformance.mock.app:from_environment",
            factory=True,
            workers=args.workers,
            log_level=args.log_level,
            **SERVER_OPTIONS,
        )
        # Workers share our socket, which has TCP_NODELAY (see `listen`); uvicorn's own would not.
        with worker_settings(args):
            Multiprocess(config, sockets=[sock]).run()
    else:
        app = build_app(scenario, args.state, controls=not args.no_controls, rate_limit=args.rate_limit)
        config = uvicorn.Config(app, log_level=args.log_level, **SERVER_OPTIONS)
        uvicorn.Server(config).run(sockets=[sock])


def main(argv: list[str] | None = None) -> int:
    """Entry point of the close-mock console script."""
    args = parse(argv)
    try:
        scenario = check(args)
        sock = bind(args)
    except ConformanceError as error:
        print(f"close-mock: {error}", file=sys.stderr)
        return 2
    try:
        _serve(args, scenario, sock)
    except KeyboardInterrupt:  # Ctrl-C at any moment, starting up included: a clean stop, no traceback
        print("close-mock: stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
