"""`close-mock serve`: run the mock under uvicorn."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import socket
import sys
from pathlib import Path

import uvicorn
from uvicorn.supervisors import Multiprocess

from conformance.mock import scenario as scenarios
from conformance.mock.app import CONTROLS, ENDPOINT
from conformance.mock.store import SqliteStore, StateError

LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str) -> bool:
    """Tell whether binding to `host` keeps the mock on this machine."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parser() -> argparse.ArgumentParser:
    """The command line of close-mock."""
    root = argparse.ArgumentParser(
        prog="close-mock", description="A stateful mock of Close's request-internal-phone-number endpoint."
    )
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the mock over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback only)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default 8000; 0 picks a free one)")
    serve.add_argument("--scenario", type=Path, help="scenario YAML file (default: the packaged scenario)")
    serve.add_argument("--state", type=Path, help="keep rentals in this SQLite file (survives restarts)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (more than 1 needs --state)")
    serve.add_argument(
        "--rate-limit", type=int, metavar="N", help="answer 429 past N requests per second and credential (per worker)"
    )
    serve.add_argument("--no-controls", action="store_true", help=f"switch off the test controls under {CONTROLS}")
    serve.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    return root


class UsageError(Exception):
    """A mistake in the command line; the message is printed and the exit status is 2."""


def check(args: argparse.Namespace) -> scenarios.Scenario:
    """Check the arguments together and load the scenario, or raise UsageError."""
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.rate_limit is not None and args.rate_limit < 1:
        raise UsageError("--rate-limit must be at least 1 request per second")
    if args.workers > 1 and args.state is None:
        raise UsageError("several workers must share state: add --state FILE")
    if args.state is not None:
        try:
            SqliteStore(args.state).close()  # open it once here so a bad file is a usage error
        except StateError as error:
            raise UsageError(str(error)) from None
    try:
        return scenarios.load(args.scenario)
    except scenarios.ScenarioError as error:
        raise UsageError(str(error)) from None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the close-mock console script."""
    args = parser().parse_args(argv)
    try:
        scenario = check(args)
        sock = listen(args.host, args.port)
    except UsageError as error:
        print(f"close-mock: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"close-mock: cannot listen on {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
        return 2
    if not is_loopback(args.host):
        print(
            f"close-mock: WARNING: binding to {args.host} exposes the mock and its published test "
            "credentials beyond this machine.",
            file=sys.stderr,
        )
    os.environ["CLOSE_MOCK_SCENARIO"] = str(args.scenario.resolve()) if args.scenario else ""
    os.environ["CLOSE_MOCK_STATE"] = str(args.state.resolve()) if args.state else ""
    os.environ["CLOSE_MOCK_CONTROLS"] = "0" if args.no_controls else "1"
    os.environ["CLOSE_MOCK_RATE_LIMIT"] = str(args.rate_limit) if args.rate_limit else ""
    print(f"close-mock: scenario {scenario.name}; state {'in ' + str(args.state) if args.state else 'in memory'}")
    print("close-mock: accepts " + "; ".join(scenario.credential_names()))
    if not args.no_controls:
        print(f"close-mock: test controls under {CONTROLS} (GET rentals, GET accounts, POST reset)")
    port = sock.getsockname()[1]
    workers = f" with {args.workers} workers" if args.workers > 1 else ""
    print(f"close-mock: listening on http://{args.host}:{port}/api/v1 (POST {ENDPOINT}){workers}", flush=True)
    config = uvicorn.Config(
        "conformance.mock.app:from_environment",
        factory=True,
        workers=args.workers,
        log_level=args.log_level,
        access_log=False,
    )
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        if args.workers > 1:
            # Workers share our socket, which has TCP_NODELAY (see `listen`); uvicorn's own would not.
            Multiprocess(config, sockets=[sock]).run()
        else:
            server.run(sockets=[sock])
    return 0


def listen(host: str, port: int) -> socket.socket:
    """Bind a listening TCP socket (port 0 picks a free one).

    The protocol is given explicitly: asyncio only sets TCP_NODELAY on sockets whose proto is
    IPPROTO_TCP, and without it every response stalls about 40 ms on delayed ACKs.
    """
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)[
        0
    ]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


if __name__ == "__main__":
    sys.exit(main())
