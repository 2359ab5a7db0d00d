"""close-mock serve as a user meets it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from conformance.mock.cli import main
from conformance.serving import is_loopback
from tests.conftest import ENDPOINT
from tests.mock.servers import mock_process


def test_serve_prints_where_it_listens_and_the_default_credentials() -> None:
    with mock_process() as (origin, process):
        response = httpx.post(
            origin + ENDPOINT, json={"country": "US", "sharing": "personal"}, auth=("mock_member_key", "")
        )
        assert response.status_code == 201
    out = process.out
    assert f"listening on {origin}/api/v1" in out
    assert "'mock_admin_key'" in out
    assert "'mock_oauth_token'" in out


def test_a_user_scenarios_secrets_are_never_printed(tmp_path: Path) -> None:
    from importlib import resources

    text = resources.files("conformance.mock.scenarios").joinpath("default.yaml").read_text("utf-8")
    scenario = tmp_path / "mine.yaml"
    scenario.write_text(text.replace("mock_admin_key", "s3cret_admin_key_value"), encoding="utf-8")
    with mock_process("--scenario", str(scenario), "--no-controls") as (origin, process):
        assert httpx.get(origin + "/__mock__/accounts").status_code == 404
        assert (
            httpx.post(
                origin + ENDPOINT, json={"country": "US", "sharing": "personal"}, auth=("s3cret_admin_key_value", "")
            ).status_code
            == 201
        )
    out = process.out
    assert "s3cret_admin_key_value" not in out
    assert "an API key of user user_mockAdmin" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--workers", "2"], "add --state FILE"),
        (["serve", "--workers", "0"], "at least 1"),
        (["serve", "--scenario", "/nonexistent/scenario.yaml"], "cannot read scenario"),
        (["serve", "--port", "80000"], "between 0 and 65535"),
        (["serve", "--port", "-5"], "between 0 and 65535"),
    ],
)
def test_usage_mistakes_are_one_line_without_traceback(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_a_broken_scenario_says_where_it_is_wrong(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "broken.yaml"
    scenario.write_text(
        "organizations: {orga_x: {budget: -1}}\nusers: {}\ncredentials: {}\ncountries: {US: {numbers: []}}\n"
    )
    assert main(["serve", "--scenario", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert "organizations/orga_x/budget" in err
    assert "countries/US/numbers" in err


def test_only_loopback_addresses_count_as_loopback() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")  # noqa: S104 - the value under test
    assert not is_loopback("192.0.2.10")


def test_a_state_file_that_is_not_ours_is_a_clear_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "notes.txt"
    state.write_text("these are my notes, not a database\n" * 100)
    assert main(["serve", "--state", str(state)]) == 2
    err = capsys.readouterr().err
    assert "cannot use" in err
    assert "Traceback" not in err


def test_serve_can_emulate_the_seed_era_endpoint() -> None:
    with mock_process("--generation", "seed") as (origin, process):
        assert httpx.post(origin + ENDPOINT, json={"country": "US"}, auth=("mock_admin_key", "")).status_code == 400
        rented = httpx.post(
            origin + ENDPOINT, json={"country": "US", "sharing": "personal"}, auth=("mock_admin_key", "")
        )
        assert rented.status_code == 201
        assert "participant_groups" not in rented.json()
    assert "seed's endpoint, contract 1.0.0" in process.out


def test_a_mistyped_serve_option_shows_serves_usage_not_the_top_level_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--prot", "9000"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: close-mock serve ")
    assert "--port PORT" in err
    assert "close-mock serve: error: unrecognized arguments: --prot 9000" in err


def test_the_start_up_lines_list_every_control_and_endpoint(tmp_path: Path) -> None:
    from conformance.mock.app import describe_controls, describe_endpoints

    with mock_process("--choice", "delete-success-body=no-content") as (origin, process):
        number = httpx.post(origin + ENDPOINT, json={"country": "US"}, auth=("mock_admin_key", "")).json()
        released = httpx.delete(f"{origin}/api/v1/phone_number/{number['id']}/", auth=("mock_admin_key", ""))
        assert (released.status_code, released.content) == (204, b"")
    out = process.out
    assert f"test controls: {describe_controls()}" in out
    assert "POST /__mock__/script" in out
    assert f"({describe_endpoints()})" in out
    assert "GET /api/v1/phone_number/{phone_number_id}/" in out
    assert "follows other readings than the contract's: delete-success-body=no-content" in out


def test_workers_follow_the_chosen_readings_too(tmp_path: Path) -> None:
    state = str(tmp_path / "state.sqlite3")
    with mock_process("--workers", "2", "--state", state, "--choice", "not-found-body=detail-message") as (origin, _):
        for _ in range(4):  # whichever worker answers
            answer = httpx.get(origin + "/api/v1/phone_number/phon_nothing/", auth=("mock_admin_key", ""))
            assert answer.json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ("delete-success-body", "--choice takes CHOICE=READING"),
        (
            "delete-success-body=maybe",
            "--choice delete-success-body: no reading 'maybe'; the readings are empty-object, no-content",
        ),
        ("colour=red", "--choice colour: the contract has no such choice"),
    ],
)
def test_a_wrong_choice_is_a_one_line_usage_error(
    choice: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--choice", choice]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert "scenario" not in err  # the mistake is on the command line, not in the scenario file
    assert len(err.strip().splitlines()) == 1


def test_a_port_in_use_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.serving import listen

    taken = listen("127.0.0.1", 0)
    try:
        assert main(["serve", "--port", str(taken.getsockname()[1])]) == 2
    finally:
        taken.close()
    err = capsys.readouterr().err
    assert err.startswith("close-mock: cannot listen on 127.0.0.1:")
    assert "Traceback" not in err


def test_serve_follows_readings_of_the_rentals_choices() -> None:
    choices = ["--choice", "body-limit=16-kib", "--choice", "www-authenticate=absent"]
    with mock_process(*choices) as (origin, process):
        large = httpx.post(
            origin + ENDPOINT, json={"country": "US", "bundle_id": "b" * 20_000}, auth=("mock_admin_key", "")
        )
        unknown = httpx.post(origin + ENDPOINT, json={"country": "US"}, auth=("nobody_at_all", ""))
    assert large.status_code == 413
    assert unknown.status_code == 401
    assert "www-authenticate" not in unknown.headers
    line = next(line for line in process.out.splitlines() if "follows other readings than the contract's" in line)
    assert set(line.split(": ", 2)[2].split(", ")) == {"body-limit=16-kib", "www-authenticate=absent"}
