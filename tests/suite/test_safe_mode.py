"""Safe mode costs nothing on any server: faithful, lenient in one way, or ignoring authentication.

Each lenient server is the faithful mock behind a front that repairs one kind of request the
contract forbids; the mock's own books then say what such a server would have rented.
"""

from __future__ import annotations

import pytest

from conformance.mock import build
from conformance.mock.server import MockServer
from conformance.suite.cli import main
from tests.suite.faulty import Fault, FaultyServer
from tests.suite.lenient import LENIENCIES, UNSEEN_LENIENCIES, lenient

SAFE = ["--mode", "safe", "--quiet", "--examples", "60"]


def safe_run(leniency: Fault, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Safe mode against a lenient server: the exit status and output; asserts nothing was rented."""
    server = FaultyServer(leniency)
    with MockServer(server) as running:
        code = main(["--base-url", running.origin + "/api/v1", *SAFE])
    output = capsys.readouterr().out
    assert server.mock.store.rentals() == [], f"{leniency.name}: safe mode rented\n{output}"
    assert "Rentals: 0" in output
    return code, output


@pytest.mark.usefixtures("credentials")
@pytest.mark.parametrize("leniency", LENIENCIES, ids=[leniency.name for leniency in LENIENCIES])
def test_a_lenient_server_rents_nothing_and_its_leniency_is_reported(
    leniency: Fault, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = safe_run(leniency, capsys)
    assert code == 1, f"{leniency.name} was not reported:\n{output}"
    probes = [line for line in output.splitlines() if line.startswith("  fixed probes that show it: ")]
    assert any(leniency.expect in line for line in probes), f"{leniency.name} not named by its probe:\n{output}"


@pytest.mark.usefixtures("credentials")
@pytest.mark.parametrize("leniency", UNSEEN_LENIENCIES, ids=[leniency.name for leniency in UNSEEN_LENIENCIES])
def test_a_server_lenient_where_safe_mode_cannot_look_rents_nothing(
    leniency: Fault, capsys: pytest.CaptureFixture[str]
) -> None:
    _code, output = safe_run(leniency, capsys)
    # What was held back for money's sake is listed as not checked, not passed.
    assert "  - missing required country: held back by the guard (safe mode: some server could rent" in output


@pytest.mark.usefixtures("credentials")
def test_the_faithful_mock_passes_in_safe_mode_and_rents_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    app = build()
    with MockServer(app) as running:
        code = main(["--base-url", running.origin + "/api/v1", *SAFE])
    output = capsys.readouterr().out
    assert code == 0, output
    assert app.store.rentals() == []
    # Safe mode still proves that both schemes reach the business rules (aimed at a country without numbers).
    assert "  authentication: 3 of 3" in output  # Basic and Bearer accepted, no credentials refused
    business = int(output.split("Authenticated requests answered by the business rules: ")[1].split()[0])
    assert business > 50


@pytest.mark.usefixtures("credentials")
def test_a_seed_era_server_that_defaults_the_missing_sharing_rents_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def default_sharing(raw: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        import json

        try:
            body = json.loads(raw)
        except ValueError:
            return raw, headers
        if isinstance(body, dict):
            body.setdefault("sharing", "personal")
        return json.dumps(body).encode(), headers

    server = FaultyServer(
        lenient("defaults sharing", "missing required sharing", default_sharing), build(generation="seed")
    )
    with MockServer(server) as running:
        code = main(["--base-url", running.origin + "/api/v1", "--contract", "seed", *SAFE])
    output = capsys.readouterr().out
    assert server.mock.store.rentals() == []
    assert code == 1
    assert "fixed probes that show it: missing required sharing" in output
