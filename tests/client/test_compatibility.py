"""Compatibility across the endpoint's generations, in both directions.

Today's client against a mock emulating the seed-era endpoint, and a client generated from
the seed-era baseline contract against today's mock. Each row of docs/client.md's compatibility
table is one case here. The baseline client is generated into a temporary directory and run
in a subprocess, so its package does not clash with today's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
from close_phone_numbers_client import AuthenticatedClient
from close_phone_numbers_client.api.phone_numbers import request_internal_phone_number
from close_phone_numbers_client.models import PhoneNumber, PhoneNumberRequest, Refusal, RefusalFieldErrors, Sharing
from close_phone_numbers_client.types import UNSET

from conformance import contract
from conformance.mock import MockServer, build

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def seed_mock():
    with MockServer(build(generation="seed")) as mock:
        yield mock.origin + "/api/v1"


@pytest.fixture(scope="module")
def today_mock():
    with MockServer(build()) as mock:
        yield mock.origin + "/api/v1"


def rent(base_url: str, request: PhoneNumberRequest):
    with AuthenticatedClient.from_api_key(base_url, "mock_admin_key") as client:
        return request_internal_phone_number.sync_detailed(client=client, body=request)


# -- today's client, seed-era endpoint ---------------------------------------------------


def test_today_client_seed_server_without_sharing_is_refused_naming_sharing(seed_mock: str) -> None:
    answer = rent(seed_mock, PhoneNumberRequest(country="US", prefix="650"))
    assert isinstance(answer.parsed, Refusal)
    assert answer.status_code == 400
    assert isinstance(answer.parsed.field_errors, RefusalFieldErrors)
    assert "sharing" in answer.parsed.field_errors.additional_properties


def test_today_client_seed_server_with_sharing_rents_and_warns(seed_mock: str) -> None:
    with pytest.warns(DeprecationWarning, match="sharing"):
        request = PhoneNumberRequest(country="US", sharing=Sharing.PERSONAL, prefix="650")
    answer = rent(seed_mock, request)
    assert isinstance(answer.parsed, PhoneNumber), answer.parse_error
    assert answer.parsed.participant_groups is UNSET  # the seed-era endpoint does not return it
    assert answer.parsed.user_id == "user_mockAdmin"


def test_today_client_seed_server_assign_to_is_refused_as_unknown(seed_mock: str) -> None:
    answer = rent(seed_mock, PhoneNumberRequest(country="US", assign_to=["user_mockAdmin"]))
    assert isinstance(answer.parsed, Refusal)
    assert answer.status_code == 400
    assert isinstance(answer.parsed.field_errors, RefusalFieldErrors)
    assert "assign_to" in answer.parsed.field_errors.additional_properties


# -- today's client, today's endpoint (for the table's last column) -----------------------


def test_today_client_today_server_assign_to_rents_for_the_assignee(today_mock: str) -> None:
    answer = rent(today_mock, PhoneNumberRequest(country="US", assign_to=["user_mockCaller"]))
    assert isinstance(answer.parsed, PhoneNumber), answer.parse_error
    assert answer.parsed.participants == ["user_mockCaller"]
    assert answer.parsed.user_id == "user_mockCaller"
    assert answer.parsed.participant_groups == []


def test_today_client_without_sharing_does_not_warn(today_mock: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        answer = rent(today_mock, PhoneNumberRequest(country="US"))
    assert isinstance(answer.parsed, PhoneNumber)


# -- the baseline client, today's endpoint ------------------------------------------------


@pytest.fixture(scope="module")
def baseline_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("baseline") / "client"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate.py"), "--contract", str(contract.baseline_path()),
         "--output", str(output)],
        check=True, capture_output=True,
    )  # fmt: skip
    return output


def run_baseline(baseline_client: Path, base_url: str, code: str) -> dict:
    script = textwrap.dedent(
        """
        import json, sys
        from close_phone_numbers_client import AuthenticatedClient
        from close_phone_numbers_client.api.phone_numbers import request_internal_phone_number
        from close_phone_numbers_client.models import PhoneNumber, PhoneNumberRequest, Refusal, Sharing
        client = AuthenticatedClient.from_api_key(sys.argv[1], "mock_admin_key")
        def rent(request):
            return request_internal_phone_number.sync_detailed(client=client, body=request)
        """
    ) + textwrap.dedent(code)
    done = subprocess.run(
        [sys.executable, "-c", script, base_url],
        env={"PYTHONPATH": str(baseline_client), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def test_baseline_client_is_the_seed_era_package(baseline_client: Path, today_mock: str) -> None:
    found = run_baseline(
        baseline_client,
        today_mock,
        """
        import close_phone_numbers_client, inspect
        print(json.dumps({"file": close_phone_numbers_client.__file__,
                          "assign_to": "assign_to" in inspect.signature(PhoneNumberRequest).parameters}))
        """,
    )
    assert found["file"].startswith(str(baseline_client))
    assert found["assign_to"] is False


def test_baseline_client_today_server_personal_rents_and_keeps_new_fields(
    baseline_client: Path, today_mock: str
) -> None:
    found = run_baseline(
        baseline_client,
        today_mock,
        """
        answer = rent(PhoneNumberRequest(country="US", sharing=Sharing.PERSONAL, prefix="650"))
        print(json.dumps({"parsed": isinstance(answer.parsed, PhoneNumber), "error": answer.parse_error,
                          "user_id": answer.parsed.user_id, "extra": answer.parsed.additional_properties}))
        """,
    )
    assert found["parsed"], found["error"]
    assert found["user_id"] == "user_mockAdmin"
    assert found["extra"] == {"participant_groups": []}  # today's new field, kept, not lost


def test_baseline_client_today_server_group_rents(baseline_client: Path, today_mock: str) -> None:
    found = run_baseline(
        baseline_client,
        today_mock,
        """
        answer = rent(PhoneNumberRequest(country="CA", sharing=Sharing.GROUP))
        print(json.dumps({"parsed": isinstance(answer.parsed, PhoneNumber), "group": answer.parsed.is_group_number}))
        """,
    )
    assert found == {"parsed": True, "group": True}


def test_baseline_client_today_server_refusal_still_parses(baseline_client: Path, today_mock: str) -> None:
    found = run_baseline(
        baseline_client,
        today_mock,
        """
        answer = rent(PhoneNumberRequest(country="DE", sharing=Sharing.PERSONAL))
        print(json.dumps({"refusal": isinstance(answer.parsed, Refusal), "status": str(answer.parsed.status)}))
        """,
    )
    assert found == {"refusal": True, "status": "needs-more-info"}
