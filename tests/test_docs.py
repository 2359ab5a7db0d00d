"""Every example in README.md and docs/*.md runs as written, against the mock, and nothing reaches Close.

How a fenced block is treated is decided by its info string (GitHub highlights by its first word):

    python       run as a script; a block that defines a top-level `test_*` function is a test file
                 instead, run by pytest in a fresh directory of its own (the plugin is found through
                 its entry point, as for a user; the file is named by a first line `# test_x.py: ...`)
    sh           run by `bash -e`; a command that is meant to fail is written `... || echo "exit status $?"`
    sh-server    one command that serves until stopped (`close-mock serve`, `close-conformance proxy`):
                 started, it must print "listening on URL" within 30 s and answer an HTTP request
                 there; then it is stopped with SIGINT, as Ctrl-C would, and must end within 15 s, with
                 exit status 0, 1 or 2 and no traceback
    sh-live      not run, since it would reach api.close.com: each `close-conformance` command is parsed
                 by its argument parser (a `run` also checked as it is before anything is sent), each
                 `close-mock` command by its own
    python-live  not run: compiled
    yaml         parsed; a step that uses this repository's action names only inputs action.yml declares
    text         output, a tree or a table: not run. A text block whose previous block is a run block
                 is that block's output (abridged): its `Result: ...` and `exit status N` lines must be
                 lines the block printed
    (any) file=NAME   the block is also written to NAME first, for the blocks after it

A page's blocks run in order in one temporary directory: a block may use what an earlier one wrote.
Each runs with CLOSE_API_KEY=mock_admin_key and CLOSE_BEARER_TOKEN=mock_oauth_token, the venv's
commands on PATH, XDG_STATE_HOME in that directory (where ledgers go), and three stand-ins ahead of
them: `make` is a dry run in the repository (`make -n`: the target exists and its recipe resolves;
`make test` cannot run inside `make test`), `pip` checks that what it names is installed in this
venv at the version named (no index is contacted), and `curl` refuses any close.com address.

Addresses: `127.0.0.1:8000` in an example is the mock this module serves (one for all pages, on a
free port, substituted). Ports 8001 to 8099 are servers an example starts itself; each is
replaced by a free port, the same one throughout a page. Nothing reaches api.close.com: every
Python process started here refuses to resolve a close.com name (a sitecustomize on PYTHONPATH)
and records the attempt, `curl` does the same, and a page with any record fails.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from conformance import contract
from conformance.mock import MockServer, build
from conformance.suite import checks, cli

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN, PARSED, OUTPUT = {"python", "sh", "sh-server"}, {"sh-live", "python-live", "yaml"}, {"text"}
FIRST_SCREEN = 40  # lines a person sees without scrolling
MOCK_PORT = 8000
EXAMPLE_PORT = re.compile(r"(?<![\d.])(80\d\d)(?!\d|\.\d)")
BLOCK_TIMEOUT = 240  # seconds; a block that leaves a server running hangs until then and fails


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int  # of the opening fence
    kind: str  # the info string's first word
    file: str | None  # file=NAME
    text: str

    @property
    def where(self) -> str:
        """`README.md:12`, for failure messages."""
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of a page, in order."""
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = re.match(r"^(`{3,})(.*)$", lines[index])
        if opening is None:
            index += 1
            continue
        fence, words = opening.group(1), opening.group(2).split()
        end = next((n for n in range(index + 1, len(lines)) if lines[n].strip() == fence), None)
        assert end is not None, f"{page.relative_to(ROOT)}:{index + 1}: a code block is never closed"
        named = [word.removeprefix("file=") for word in words[1:] if word.startswith("file=")]
        text = "\n".join(lines[index + 1 : end]) + "\n"
        found.append(Block(page, index + 1, words[0] if words else "", named[0] if named else None, text))
        index = end + 1
    return found


ALL = [block for page in PAGES for block in blocks(page)]


def defines_tests(source: str) -> bool:
    """Whether a Python block is a pytest file (it defines a top-level `test_*` function)."""
    tree = ast.parse(source)
    return any(isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
               for node in tree.body)  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- the stand-ins and the guard -------------------------------------------------------------------

SITECUSTOMIZE = '''
"""Docs examples: refuse to resolve close.com names, and record every attempt."""
import os
import socket

_resolve = socket.getaddrinfo


def _guarded(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else str(host or "")
    if name.lower().rstrip(".").endswith("close.com"):
        with open(os.environ["DOCS_LIVE_LOG"], "a", encoding="utf-8") as log:
            log.write(f"python process {os.getpid()} resolved {name}\\n")
        raise socket.gaierror(socket.EAI_NONAME, f"docs examples must not reach {name}")
    return _resolve(host, *args, **kwargs)


socket.getaddrinfo = _guarded
'''

PIP = '''#!{python}
"""Docs stand-in for pip: `pip install X` checks that X is installed in this venv (no index is contacted)."""
import importlib.metadata as metadata
import re
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename


def installed(name, specifier="", extras=()):
    try:
        version = metadata.version(name)
    except metadata.PackageNotFoundError:
        sys.exit(f"pip (docs stand-in): {{name}} is not installed in this venv")
    if specifier and version not in Requirement(f"{{name}}{{specifier}}").specifier:
        sys.exit(f"pip (docs stand-in): {{name}} {{version}} is installed, not {{specifier}}")
    for extra in extras:
        for line in metadata.requires(name) or []:
            needed = Requirement(line)
            if needed.marker is not None and needed.marker.evaluate({{"extra": extra}}):
                if not needed.marker.evaluate({{"extra": ""}}):
                    installed(needed.name, str(needed.specifier))
    print(f"pip (docs stand-in): {{name}}{{'[' + ','.join(extras) + ']' if extras else ''}} {{version}} is installed")


words = sys.argv[1:]
if words[:1] != ["install"]:
    sys.exit("pip (docs stand-in): only `pip install` is known here")
for word in words[1:]:
    if word in ("-U", "--upgrade", "-q", "--quiet"):
        continue
    if word.startswith("-"):
        sys.exit(f"pip (docs stand-in): option {{word}} is not known here")
    path = re.fullmatch(r"(.+\\.(?:whl|tar\\.gz))(?:\\[(.+)\\])?", word)
    if path:
        filename = Path(path.group(1)).name
        parsed = parse_wheel_filename(filename) if filename.endswith(".whl") else parse_sdist_filename(filename)
        extras = tuple(path.group(2).split(",")) if path.group(2) else ()
        installed(canonicalize_name(parsed[0]), f"=={{parsed[1]}}", extras)
    else:
        requirement = Requirement(word)
        installed(requirement.name, str(requirement.specifier), tuple(sorted(requirement.extras)))
'''

MAKE = """#!/bin/bash
# Docs stand-in for make: a dry run in the repository (the target exists, its recipe resolves).
exec {make} --no-print-directory -n -C {root} "$@"
"""

CURL = """#!/bin/bash
# Docs stand-in for curl: never a close.com address.
for word in "$@"; do
  case "$word" in
    *close.com*) echo "curl: docs examples must not reach $word" >&2; echo "curl $word" >> "$DOCS_LIVE_LOG"; exit 7;;
  esac
done
exec {curl} "$@"
"""


@dataclass(frozen=True)
class Tools:
    """The directory of stand-ins and the guard, and the environment examples run in."""

    bin: Path
    site: Path

    def env(self, home: Path) -> dict[str, str]:
        """The environment of a page's examples, whose live attempts go to home/live.log."""
        keep = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("CLOSE_", "PYTEST_", "MAKE", "MFLAGS", "VIRTUAL_ENV", "PYTHON"))
        }
        venv_bin = Path(sys.executable).parent
        return keep | {
            "PATH": os.pathsep.join([str(self.bin), str(venv_bin), keep.get("PATH", os.defpath)]),
            "PYTHONPATH": str(self.site),
            "CLOSE_API_KEY": "mock_admin_key",
            "CLOSE_BEARER_TOKEN": "mock_oauth_token",
            "XDG_STATE_HOME": str(home / ".state"),
            "DOCS_LIVE_LOG": str(home / "live.log"),
            "NO_COLOR": "1",
        }


@pytest.fixture(scope="module")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Tools:
    base = tmp_path_factory.mktemp("docs-tools")
    bin_dir, site = base / "bin", base / "site"
    bin_dir.mkdir()
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    make, curl = shutil.which("make"), shutil.which("curl")
    assert make is not None, "make is needed to run the examples"
    assert curl is not None, "curl is needed to run the examples"
    for name, text in (
        ("pip", PIP.format(python=sys.executable)),
        ("make", MAKE.format(make=shlex.quote(make), root=shlex.quote(str(ROOT)))),
        ("curl", CURL.format(curl=shlex.quote(curl))),
    ):
        (bin_dir / name).write_text(text, encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    return Tools(bin_dir, site)


@pytest.fixture(scope="module")
def docs_mock() -> Iterator[MockServer]:
    """The mock the examples' 127.0.0.1:8000 stands for."""
    with MockServer(build()) as mock:
        yield mock


# -- running a block -------------------------------------------------------------------------------


class Ports:
    """The examples' ports, mapped to this run's: 8000 is the served mock, 8001-8099 free ports per page."""

    def __init__(self, mock: int) -> None:
        self.mapped = {MOCK_PORT: mock}

    def __call__(self, text: str) -> str:
        def port(match: re.Match[str]) -> str:
            wanted = int(match.group(1))
            return str(self.mapped.setdefault(wanted, free_port()))

        return EXAMPLE_PORT.sub(port, text)


def _ended(process: subprocess.Popen[str], block: Block, command: str, output: str) -> str:
    return f"{block.where} ({block.kind}) exited {process.returncode}:\n{command}\n--- output ---\n{output[-6000:]}"


def run_process(argv: list[str], block: Block, shown: str, cwd: Path, env: dict[str, str]) -> str:
    """Run one example to its end (it and whatever it left running are stopped after); fail on non-zero."""
    process = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = process.communicate(timeout=BLOCK_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"{block.where}: still running after {BLOCK_TIMEOUT} s (a server left running?)\n{output[-4000:]}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)  # servers an example started and did not stop
    assert process.returncode == 0, _ended(process, block, shown, output)
    return output


def answers(url: str, within: float = 15.0) -> bool:
    """Whether an HTTP request to `url` gets an answer (any status) within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - a loopback address the example printed
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.1)
    return False


def serve(block: Block, command: str, cwd: Path, env: dict[str, str]) -> str:
    """An `sh-server` block: it must come up, listen, and stop cleanly on SIGINT."""
    process = subprocess.Popen(
        ["bash", "-c", command], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    listening = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "listening on" in line:
                listening.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        came_up = listening.wait(30)
        assert came_up, f"{block.where}: never said it was listening:\n{command}\n{''.join(lines)}"
        address = re.search(r"listening on (http://[^\s,;]+)", "".join(lines))
        assert address is not None, f"{block.where}: no address in {''.join(lines)}"
        assert answers(address.group(1)), f"{block.where}: {address.group(1)} does not answer\n{''.join(lines)}"
        os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C would, once it serves
        process.wait(timeout=15)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        reader.join(timeout=5)
    output = "".join(lines)
    assert process.returncode in (0, 1, 2), _ended(process, block, command, output)
    assert "Traceback" not in output, f"{block.where}:\n{output}"
    return output


def run_block(block: Block, text: str, cwd: Path, env: dict[str, str]) -> str:
    """Run one block of a page in the page's directory; what it printed."""
    if block.kind == "sh":
        script = cwd / f"example-{block.line}.sh"
        script.write_text(text, encoding="utf-8")
        return run_process(["bash", "-e", script.name], block, text, cwd, env)
    if block.kind == "sh-server":
        return serve(block, " ".join(text.replace("\\\n", " ").split()), cwd, env)
    if defines_tests(text):
        first = re.match(r"# (test_\w+\.py)\b", text)
        here = cwd / f"pytest-{block.line}"
        here.mkdir()
        name = first.group(1) if first else "test_example.py"
        (here / name).write_text(text, encoding="utf-8")
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--strict-markers", name]
        return run_process(command, block, text, here, env)
    script = cwd / f"example_{block.line}.py"
    script.write_text(text, encoding="utf-8")
    return run_process([sys.executable, script.name], block, text, cwd, env)


def promised(output_block: str) -> list[str]:
    """The lines of an output block that the run must have printed: its results and exit statuses."""
    return [line for line in output_block.splitlines() if line.startswith(("Result: ", "exit status "))]


RUNNABLE = [page for page in PAGES if any(block.kind in RUN for block in blocks(page))]


@pytest.mark.parametrize("page", RUNNABLE, ids=[str(page.relative_to(ROOT)) for page in RUNNABLE])
def test_the_examples_of_a_page_run_as_written(page: Path, tools: Tools, docs_mock: MockServer, tmp_path: Path) -> None:
    env = tools.env(tmp_path)
    ports = Ports(docs_mock.port)
    printed: tuple[Block, str] | None = None  # the last run block and its output
    for block in blocks(page):
        text = ports(block.text) if block.kind in RUN | OUTPUT else block.text
        if block.file is not None:
            target = tmp_path / block.file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        if block.kind in OUTPUT and printed is not None:
            # The output a page shows after a command: its results and exit statuses are what it printed.
            ran, output = printed
            missing = [line for line in promised(text) if line not in output.splitlines()]
            assert not missing, f"{block.where} shows {missing}, which {ran.where} did not print:\n{output[-4000:]}"
        printed = (block, run_block(block, text, tmp_path, env)) if block.kind in RUN else None
    log = tmp_path / "live.log"
    assert not log.exists(), f"{page.relative_to(ROOT)}: an example tried to reach Close:\n{log.read_text()}"


# -- what is not run ---------------------------------------------------------------------------------


def test_every_block_says_what_it_is() -> None:
    unknown = [f"{block.where}: ```{block.kind}" for block in ALL if block.kind not in RUN | PARSED | OUTPUT]
    assert not unknown, "give each block an info string this module knows (see its docstring):\n" + "\n".join(unknown)


def commands(text: str) -> list[list[str]]:
    """The commands of a shell block: continuation lines joined, comments dropped, split at && || ; |."""
    found: list[list[str]] = []
    for line in text.replace("\\\n", " ").splitlines():
        current: list[str] = []
        for word in shlex.split(line, comments=True):
            if word in ("&&", "||", ";", "|"):
                found.append(current)
                current = []
            else:
                current.append(word)
        found.append(current)
    words = [[word for word in command if not re.fullmatch(r"[A-Z_]+=.*", word)] for command in found]
    return [command for command in words if command]


LIVE = [block for block in ALL if block.kind in ("sh-live", "python-live")]


@pytest.mark.parametrize("block", LIVE, ids=[block.where for block in LIVE])
def test_a_live_example_parses(block: Block, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if block.kind == "python-live":
        compile(block.text, block.where, "exec")
        return
    monkeypatch.chdir(tmp_path)  # `run` creates report directories before it sends anything
    monkeypatch.setenv("CLOSE_API_KEY", "a-live-key")
    monkeypatch.setenv("CLOSE_BEARER_TOKEN", "a-live-token")
    from conformance.mock import cli as mock_cli

    checked = 0
    for command in commands(block.text):
        if command[0] == "close-conformance":
            args = cli.parser().parse_args(cli._with_command(command[1:]))
            if (args.command or "run") == "run":
                options = cli.options_from(args)
                assert options.base_url is not None, f"{block.where}: a live example names its server"
            checked += 1
        elif command[0] == "close-mock":
            mock_cli.requested_choices(mock_cli.parse(command[1:]))
            checked += 1
    assert checked, f"{block.where}: an sh-live block without a close-conformance or close-mock command"


ACTION_INPUTS = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))["inputs"]
YAML = [block for block in ALL if block.kind == "yaml"]


def _steps(document: object) -> Iterator[dict[str, object]]:
    if isinstance(document, dict):
        if "uses" in document:
            yield document
        for value in document.values():
            yield from _steps(value)
    elif isinstance(document, list):
        for value in document:
            yield from _steps(value)


@pytest.mark.parametrize("block", YAML, ids=[block.where for block in YAML])
def test_a_yaml_example_parses_and_uses_the_action_as_declared(block: Block) -> None:
    document = yaml.safe_load(block.text)
    for step in _steps(document):
        if "close-phone-numbers@" not in str(step["uses"]):
            continue
        given = step.get("with") or {}
        assert isinstance(given, dict)
        assert set(given) <= set(ACTION_INPUTS), (
            f"{block.where}: action.yml has no input {set(given) - set(ACTION_INPUTS)}"
        )
        required = {name for name, spec in ACTION_INPUTS.items() if spec.get("required")}
        assert required <= set(given), f"{block.where}: the action needs {required - set(given)}"


# -- the pages themselves ----------------------------------------------------------------------------


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    inside, found, seen = False, set(), dict[str, int]()
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            inside = not inside
        elif not inside and (heading := re.match(r"#{1,6} (.+)", line)):
            slug = _slug(heading.group(1))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def _links(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)  # links in code are code
    return re.findall(r"\]\(([^)\s]+)\)", text)


def test_every_relative_link_and_anchor_resolves() -> None:
    broken = []
    for page in PAGES:
        for link in _links(page):
            if re.match(r"[a-z]+:", link):
                continue
            path, _, anchor = link.partition("#")
            target = (page.parent / path).resolve() if path else page
            if not target.exists():
                broken.append(f"{page.relative_to(ROOT)}: {link} (no such file)")
            elif anchor and target.suffix == ".md" and anchor not in _anchors(target):
                broken.append(f"{page.relative_to(ROOT)}: {link} (no such heading)")
    assert not broken, "\n".join(broken)


def test_every_page_of_docs_is_linked_from_the_readme() -> None:
    linked = {(ROOT / link.partition("#")[0]).resolve() for link in _links(ROOT / "README.md")}
    missing = [page.name for page in PAGES[1:] if page.resolve() not in linked]
    assert not missing, f"README.md does not link {missing}"


def test_the_readme_starts_with_the_start() -> None:
    screen = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:FIRST_SCREEN])
    first = [block for block in blocks(ROOT / "README.md") if block.line <= FIRST_SCREEN]
    for needed in ("make conformance", "make test", "Python 3.11", "Node.js", "chromium", "docs/disagreements.md"):
        assert needed in screen, f"the README's first {FIRST_SCREEN} lines do not say {needed!r}"
    assert any(block.kind == "sh" and "close-conformance" in block.text for block in first), "how to check a server"
    assert any(block.kind == "python" and "AuthenticatedClient" in block.text for block in first), "the client"
    assert any(block.kind == "python" and "close_mock" in block.text for block in first), "the fixture"
    assert all(block.line + block.text.count("\n") <= FIRST_SCREEN for block in first), "a block runs off the screen"


def _first_cells(page: Path, heading: str) -> set[str]:
    """The backquoted names in the first column of the table under a heading."""
    text = page.read_text(encoding="utf-8").split(heading, 1)[1]
    section = re.split(r"\n#{1,6} ", text, maxsplit=1)[0]
    return set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE))


def test_the_contracts_choices_are_all_listed_in_disagreements_with_their_readings() -> None:
    page = ROOT / "docs" / "disagreements.md"
    choices = contract.today().choices
    assert _first_cells(page, "## The contract's choices") == set(choices)
    for line in page.read_text(encoding="utf-8").splitlines():
        row = re.match(r"^\| `([^`]+)` \|[^|]*\|(.*)\|$", line)
        if row is None or row.group(1) not in choices:
            continue
        choice = choices[row.group(1)]
        quoted = re.findall(r"`([^`]+)`", row.group(2))
        named = {word for word in quoted if re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", word)}  # reading ids, not JSON
        others = set(list(choice.readings)[1:])
        assert named == others, f"{choice.id}: the page names the readings {sorted(named)}, the contract {others}"


def test_every_check_is_listed_in_checking_a_server() -> None:
    listed = _first_cells(ROOT / "docs" / "checking-a-server.md", "## What it checks")
    # The judge's checks, and what the conclusion and the run add: server failures, the static-body
    # root cause, the embedded mock's books.
    assert listed == {*checks.NAMES, "server_failures", "static_rental_body", "mock_accounting"}


def test_an_example_that_starts_a_server_in_the_background_stops_it() -> None:
    # Else run_process waits for it until BLOCK_TIMEOUT and fails there, far later.
    for block in ALL:
        if block.kind == "sh" and re.search(r"&\s*$", block.text, flags=re.MULTILINE):
            assert "kill" in block.text, f"{block.where}: starts a server in the background and never stops it"


# -- the machinery checks itself -------------------------------------------------------------------


def test_the_guard_and_the_stand_ins_refuse_what_they_must(tools: Tools, tmp_path: Path) -> None:
    env = tools.env(tmp_path)

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=60)

    resolved = run(sys.executable, "-c", "import socket; socket.getaddrinfo('api.close.com', 443)")
    assert resolved.returncode != 0
    assert "must not reach api.close.com" in resolved.stderr
    assert run("curl", "-s", "https://api.close.com/api/v1/me/").returncode == 7
    assert (tmp_path / "live.log").read_text().count("api.close.com") == 2
    assert run("pip", "install", "close-phone-numbers-client==1.1.0").returncode != 0
    assert run("pip", "install", "dist/close_phone_numbers_client-1.1.0-py3-none-any.whl").returncode != 0
    assert run("pip", "install", "a-package-nobody-installed").returncode != 0
    assert run("pip", "install", "close-phone-numbers-conformance[suite]").returncode == 0
    assert run("make", "no-such-target").returncode != 0
    assert run("make", "conformance").stdout.strip() == ".venv/bin/close-conformance"  # shown, not run


def test_an_output_block_promises_only_its_results_and_exit_statuses() -> None:
    shown = "Requests: 5 sent\nResult: CONFORMANT\n...\nexit status 1\n"
    assert promised(shown) == ["Result: CONFORMANT", "exit status 1"]


def test_the_examples_ports_are_mapped_once_per_page() -> None:
    ports = Ports(41000)
    text = ports("http://127.0.0.1:8000/api/v1 --port 8010 -p 8010 prefix 800 8000.5 18000")
    first, second = re.findall(r"--port (\d+) -p (\d+)", text)[0]
    assert text.startswith("http://127.0.0.1:41000/api/v1")
    assert first == second != "8010"
    assert text.endswith("prefix 800 8000.5 18000")
