"""The pytest plugin as a user meets it: test files outside the tree, no conftest, `close_mock`.

Each scenario writes a test file into a temporary directory (so none of this project's
conftest or settings apply) and runs pytest on it in a subprocess (`outside.pytest_run`); the
plugin is found through its `pytest11` entry point.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.plugin.outside import passed, pytest_run

ROOT = Path(__file__).resolve().parents[2]
# The plugin's page holds a complete test file, with the install line a user copies first.
PAGE = (ROOT / "docs" / "pytest-plugin.md").read_text(encoding="utf-8")
SECTION = PAGE.split("## A complete test file", 1)[1].split("\n## ", 1)[0]
PAGE_TESTS = re.findall(r"```python\n(.*?)```", SECTION, re.DOTALL)
# The section's first install line: what a user copies to run its example.
PAGE_INSTALL = next(line for line in SECTION.splitlines() if line.startswith("pip install "))


@pytest.fixture(scope="module")
def readme_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the user's own pytest and exactly what the plugin page's install line names.

    The project's packages come from the files `make dist` builds (they are not on an index
    here); the rest, such as closeio, from the index, at the versions of requirements.lock.
    """
    dist = tmp_path_factory.mktemp("dist")
    built = subprocess.run([sys.executable, str(ROOT / "scripts" / "dist.py"), "--outdir", str(dist)],
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    pins = tmp_path_factory.mktemp("pins") / "built.txt"
    wheels = [wheel.name.split("-")[:2] for wheel in dist.glob("*.whl")]
    pins.write_text("".join(f"{name.replace('_', '-')}=={version}\n" for name, version in wheels), encoding="utf-8")
    env_dir = tmp_path_factory.mktemp("venv")
    venv.create(env_dir, with_pip=True)
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "-c", str(ROOT / "requirements.lock"), "-c", str(pins), "--find-links", str(dist)]  # fmt: skip
    words = shlex.split(PAGE_INSTALL, comments=True)
    assert words[:2] == ["pip", "install"], PAGE_INSTALL
    for packages in (["pytest"], words[2:]):  # the user's suite has pytest; then the page's line
        done = subprocess.run([*pip, *packages], capture_output=True, text=True, check=False, env=clean_env())
        assert done.returncode == 0, f"{shlex.join(packages)}:\n{done.stdout}{done.stderr}"
    return env_dir


def clean_env() -> dict[str, str]:
    """This environment without what would let a subprocess import from the tree or this venv."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def test_the_complete_test_file_of_the_plugin_page_runs_outside_the_tree(tmp_path: Path, readme_install: Path) -> None:
    # Installed by the page's own line in a fresh venv: an install line missing a package the
    # example uses (closeio for close_mock.closeio) fails here.
    assert len(PAGE_TESTS) == 1
    python = str(readme_install / "bin" / "python")
    result = pytest_run(tmp_path, PAGE_TESTS[0], name="test_my_integration.py", python=python, env=clean_env())
    assert result.returncode == 0, f"installed with: {PAGE_INSTALL}\n{result.stdout}{result.stderr}"
    assert passed(result) == 7
    assert not (tmp_path / "conftest.py").exists()


def test_the_complete_test_file_of_the_plugin_page_passes_mypy_strict(tmp_path: Path) -> None:
    (tmp_path / "test_my_integration.py").write_text(PAGE_TESTS[0], encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "test_my_integration.py"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


ODD_ANSWERS = """
import httpx
import pytest
from close_phone_numbers_client import DEFAULT_TIMEOUT, RetryPolicy, TransportFailed
from close_phone_numbers_client.api.phone_numbers import request_internal_phone_number as rent
from close_phone_numbers_client.models import PhoneNumber, PhoneNumberRequest, Refusal

BODY = PhoneNumberRequest(country="US")


def raw(close_mock):
    return httpx.post(close_mock.base_url + "/phone_number/request/internal/", json={"country": "US"},
                      auth=(close_mock.api_key("admin"), ""), timeout=5)


def test_rate_limited(close_mock):
    close_mock.next_answers("rate-limited", reset=2)
    answer = raw(close_mock)
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "2" and "reset=2" in answer.headers["ratelimit"]
    assert answer.json()["error"]["rate_reset"] == 2


@pytest.mark.parametrize("status", [500, 503])
def test_server_error(close_mock, status):
    close_mock.next_answers("server-error", status=status)
    assert raw(close_mock).status_code == status
    assert close_mock.rentals == []


def test_drop(close_mock):
    close_mock.next_answers("drop")
    with pytest.raises(httpx.RemoteProtocolError):
        raw(close_mock)


def test_slow_makes_a_client_time_out(close_mock):
    close_mock.next_answers("slow", delay=1.5)
    client = close_mock.client(timeout=httpx.Timeout(0.3))
    with pytest.raises(TransportFailed):
        rent.sync(client=client, body=BODY)


@pytest.mark.parametrize(("kind", "status"), [("sold-out", 404), ("has-voice-only", 400),
                                              ("needs-more-info", 400), ("billing-error", 400)])
def test_refusals(close_mock, kind, status):
    close_mock.next_answers(kind)
    response = rent.sync_detailed(client=close_mock.client(), body=BODY)
    assert int(response.status_code) == status
    assert isinstance(response.parsed, Refusal)
    assert kind == "sold-out" or response.parsed.status == kind
    assert close_mock.rentals == []


def test_answers_are_used_in_order_then_normal_service_resumes(close_mock):
    close_mock.next_answers("sold-out", "billing-error")
    assert [raw(close_mock).status_code for _ in range(3)] == [404, 400, 201]
    assert len(close_mock.rentals) == 1


def test_an_unknown_kind_is_a_clear_error(close_mock):
    with pytest.raises(ValueError, match="unknown odd answer 'teapot'; known: rate-limited"):
        close_mock.next_answers("teapot")


@pytest.mark.close_mock(generation="seed")
def test_the_seed_generation_by_marker(close_mock):
    assert raw(close_mock).status_code == 400  # sharing was required then


def test_roles(close_mock):
    member = close_mock.client("member")
    answer = rent.sync_detailed(client=member, body=PhoneNumberRequest(country="US", assign_to=["user_mockCaller"]))
    assert int(answer.status_code) == 403
    broke = close_mock.closeio("broke")
    with pytest.raises(Exception, match="billing"):
        for _ in range(5):
            broke.post("phone_number/request/internal", data={"country": "AU", "prefix": "4"})
"""


def test_each_odd_answer_on_demand(tmp_path: Path) -> None:
    result = pytest_run(tmp_path, ODD_ANSWERS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert passed(result) == 13


HUNDRED = """
import pytest
from close_phone_numbers_client.api.phone_numbers import request_internal_phone_number as rent
from close_phone_numbers_client.models import PhoneNumber, PhoneNumberRequest


@pytest.mark.parametrize("attempt", range(100))
def test_rents_alone(close_mock, attempt):
    number = rent.sync(client=close_mock.client(), body=PhoneNumberRequest(country="US", prefix="650"))
    assert isinstance(number, PhoneNumber)
    assert len(close_mock.rentals) == 1  # only this test's rental: every test starts clean
"""


CLIENTS_ACROSS_TESTS = """
import pytest
from close_phone_numbers_client.api.phone_numbers import request_internal_phone_number as rent
from close_phone_numbers_client.models import PhoneNumberRequest

US = PhoneNumberRequest(country="US")


@pytest.mark.parametrize("attempt", range(3))
def test_with_as_a_context_manager(close_mock, attempt):
    with close_mock.client() as client:
        assert rent.sync_detailed(client=client, body=US).status_code == 201


@pytest.mark.anyio
@pytest.mark.parametrize("attempt", range(3))
async def test_async_with(close_mock, attempt):
    async with close_mock.client() as client:
        assert (await rent.asyncio_detailed(client=client, body=US)).status_code == 201


@pytest.mark.anyio
@pytest.mark.parametrize("attempt", range(3))
async def test_async_without_closing(close_mock, attempt):
    assert (await rent.asyncio_detailed(client=close_mock.client(), body=US)).status_code == 201
    assert close_mock.client() is close_mock.client()
"""


def test_clients_used_as_context_managers_sync_and_async_in_every_test(tmp_path: Path) -> None:
    # A client closed by one test, or bound to one test's event loop, must not reach the next;
    # and no connection is left open (ResourceWarning) when an async test's loop ends.
    result = pytest_run(tmp_path, CLIENTS_ACROSS_TESTS, "-W", "error", "-p", "anyio")
    assert result.returncode == 0, result.stdout + result.stderr
    assert passed(result) == 9


def test_a_hundred_renting_tests(tmp_path: Path) -> None:
    result = pytest_run(tmp_path, HUNDRED)
    assert result.returncode == 0, result.stdout + result.stderr
    assert passed(result) == 100


def test_under_xdist_each_worker_has_its_own_mock(tmp_path: Path) -> None:
    result = pytest_run(tmp_path, HUNDRED, "-n", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert passed(result) == 100


LIVE = """
import socket

import httpx
import pytest

from conformance.pytest_plugin import LiveCallBlocked


def test_blocked_without_the_marker():
    with pytest.raises(LiveCallBlocked, match="tried to reach api.close.com"):
        httpx.get("https://api.close.com/api/v1/me/")


@pytest.mark.close_live(max_rentals=1)
def test_the_cap_holds_with_the_marker(close_mock, monkeypatch):
    # Stand-in for the live API: api.close.com resolves to the mock here, so nothing leaves the machine.
    real = socket.getaddrinfo
    port = close_mock.origin.rsplit(":", 1)[1]
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: real("127.0.0.1", *a, **k))
    url = f"http://api.close.com:{port}/api/v1/phone_number/request/internal/"
    auth = (close_mock.api_key(), "")
    assert httpx.post(url, json={"country": "US"}, auth=auth).status_code == 201
    with pytest.raises(LiveCallBlocked, match="max_rentals=1"):
        httpx.post(url, json={"country": "US"}, auth=auth)
    assert len(close_mock.rentals) == 1


@pytest.mark.close_live
def test_the_marker_needs_a_cap():
    pass
"""


def test_live_calls_are_blocked_unless_a_test_opts_in_with_a_cap(tmp_path: Path) -> None:
    result = pytest_run(tmp_path, LIVE)
    assert passed(result) == 2, result.stdout + result.stderr
    assert "close_live needs max_rentals=N" in result.stdout + result.stderr


RELEASED = """
import json
import socket

import httpx
import pytest
import requests

STATE = {}


def _live(close_mock, monkeypatch):
    # Stand-in for the live API: api.close.com resolves to the mock here, so nothing leaves the machine.
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: real("127.0.0.1", *a, **k))
    port = close_mock.origin.rsplit(":", 1)[1]
    STATE["mock"] = close_mock
    return f"http://api.close.com:{port}/api/v1/phone_number/request/internal/"


@pytest.mark.close_live(max_rentals=3)
def test_a_live_test_that_fails_after_renting(close_mock, monkeypatch):
    url = _live(close_mock, monkeypatch)
    auth = (close_mock.api_key(), "")
    assert httpx.post(url, json={"country": "US"}, auth=auth).status_code == 201
    assert requests.post(url, json={"country": "CA"}, auth=auth).status_code == 201
    assert [rental.held for rental in close_mock.rentals] == [True, True]
    raise AssertionError("the test fails after renting two numbers")


def test_its_numbers_were_released_all_the_same():
    rentals = STATE["mock"].app.store.rentals()
    assert len(rentals) == 2
    assert all(rental.released_at for rental in rentals), rentals
"""


def test_close_live_releases_what_the_test_rented_even_when_it_fails(tmp_path: Path) -> None:
    result = pytest_run(tmp_path, RELEASED, "-p", "no:randomly")
    assert "1 failed, 1 passed" in result.stdout, result.stdout + result.stderr
    assert "the test fails after renting two numbers" in result.stdout


def test_a_default_scenario_from_the_command_line(tmp_path: Path) -> None:
    from importlib import resources

    import yaml

    scenario = yaml.safe_load(resources.files("conformance.mock.scenarios").joinpath("default.yaml").read_text())
    scenario["countries"] = {"CA": scenario["countries"]["CA"]}
    (tmp_path / "canada.yaml").write_text(yaml.safe_dump(scenario))
    source = """
    import httpx

    def test_only_canada(close_mock):
        url = close_mock.base_url + "/phone_number/request/internal/"
        auth = (close_mock.api_key("user_mockAdmin"), "")
        assert httpx.post(url, json={"country": "US"}, auth=auth).status_code == 404
        assert httpx.post(url, json={"country": "CA"}, auth=auth).status_code == 201
    """
    result = pytest_run(tmp_path, source, "--close-mock-scenario", "canada.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mock_admin_key" not in result.stdout  # a user scenario's secrets are not printed


ANSWERS_AS_DICTS = """
import httpx
import pytest

from conformance.mock.script import OddAnswer, ScriptError


def statuses(close_mock, count):
    url = close_mock.base_url + "/phone_number/request/internal/"
    auth = (close_mock.api_key(), "")
    return [httpx.post(url, json={"country": "US"}, auth=auth, timeout=5).status_code for _ in range(count)]


def test_the_shape_of_the_http_control_mixed_with_kinds_and_odd_answers(close_mock):
    close_mock.next_answers({"kind": "server-error", "status": 500}, "sold-out", OddAnswer("billing-error"),
                            {"kind": "rate-limited", "reset": 0})
    assert statuses(close_mock, 5) == [500, 404, 400, 429, 201]


def test_keyword_options_apply_to_dicts_unless_they_say_otherwise(close_mock):
    close_mock.next_answers({"kind": "server-error"}, {"kind": "server-error", "status": 500}, status=502)
    assert statuses(close_mock, 3) == [502, 500, 201]


@pytest.mark.close_mock(answers=[{"kind": "server-error", "status": 500}, "sold-out"])
def test_the_marker_takes_them_too(close_mock):
    assert statuses(close_mock, 3) == [500, 404, 201]


@pytest.mark.parametrize(("bad", "message"), [
    ({"status": 503}, 'needs "kind"'),
    ({"kind": 503}, 'needs "kind"'),
    ({"kind": "server-error", 1: 2}, "named options"),
    ({"kind": "teapot"}, "unknown odd answer 'teapot'"),
    ({"kind": "server-error", "status": "x"}, "option status='x'"),
    ({"kind": "server-error", "status": 404}, "500-599"),
    (["server-error"], "an odd answer is a kind"),
    (503, "an odd answer is a kind"),
])
def test_a_bad_answer_is_a_script_error_and_queues_nothing(close_mock, bad, message):
    with pytest.raises(ScriptError, match=message):
        close_mock.next_answers("sold-out", bad)
    assert statuses(close_mock, 1) == [201]
"""


def test_odd_answers_as_the_http_control_takes_them(tmp_path: Path) -> None:
    result = pytest_run(tmp_path, ANSWERS_AS_DICTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert passed(result) == 11


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("close_mock(answers=['teapot'])", "unknown odd answer 'teapot'"),
        ("close_mock(scenrio='x.yaml')", "unknown argument(s) scenrio"),
        ("close_mock(answers=[{'status': 503}])", 'needs "kind"'),
    ],
)
def test_marker_mistakes_are_usage_errors(tmp_path: Path, marker: str, message: str) -> None:
    result = pytest_run(tmp_path, f"import pytest\n\n@pytest.mark.{marker}\ndef test_x(close_mock):\n    pass\n")
    assert result.returncode != 0
    assert re.search(f"UsageError: close_mock marker: .*{re.escape(message)}", result.stdout), result.stdout
