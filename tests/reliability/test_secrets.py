"""A canary API key and token planted in a full run never appear in any output or file."""

from __future__ import annotations

import base64
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
import yaml
from close_phone_numbers_client import AuthenticatedClient, CloseError
from close_phone_numbers_client.api.phone_numbers import request_internal_phone_number
from close_phone_numbers_client.models import PhoneNumberRequest, Sharing

from tests.mock.servers import mock_process

KEY = "canary_key_F00DFACE"
TOKEN = "canary_token_BADC0FFEE"
CANARIES = [KEY, TOKEN, base64.b64encode(f"{KEY}:".encode()).decode(), base64.b64encode(KEY.encode()).decode()[:12]]


def leaks(text: str) -> list[str]:
    return [canary for canary in CANARIES if canary in text]


@pytest.fixture
def canary_scenario(tmp_path: Path) -> Path:
    scenario = yaml.safe_load(resources.files("conformance.mock.scenarios").joinpath("default.yaml").read_text("utf-8"))
    credentials = scenario["credentials"]
    credentials["api_keys"][KEY] = credentials["api_keys"].pop("mock_admin_key")
    credentials["oauth_tokens"][TOKEN] = credentials["oauth_tokens"].pop("mock_oauth_token")
    path = tmp_path / "canary.yaml"
    path.write_text(yaml.safe_dump(scenario), encoding="utf-8")
    return path


def test_no_canary_in_any_output_or_file_of_a_full_run(tmp_path: Path, canary_scenario: Path) -> None:
    reports = tmp_path / "reports"
    env = {"CLOSE_API_KEY": KEY, "CLOSE_BEARER_TOKEN": TOKEN}
    outputs: list[str] = []
    with mock_process("--scenario", str(canary_scenario), "--log-level", "debug") as (origin, mock):
        base = origin + "/api/v1"
        for argv in (
            [
                "--base-url",
                base,
                "--mode",
                "full",
                "--max-rentals",
                "500",
                "--examples",
                "40",
                "--report-dir",
                str(reports),
                "--junit-xml",
                str(tmp_path / "junit.xml"),
            ],
            ["--base-url", base, "--examples", "20"],  # safe mode
            ["--base-url", base, "--mode", "full"],  # a usage error
            ["--help"],
        ):
            result = subprocess.run(
                [sys.executable, "-m", "conformance", *argv],
                capture_output=True,
                text=True,
                check=False,
                env={**_env(), **env},
            )
            outputs += [result.stdout, result.stderr]
        # The client: reprs, exceptions (raising mode), and a failing call's message.
        client = AuthenticatedClient.from_api_key(base, KEY, raise_errors=True)
        outputs.append(repr(client))
        with pytest.warns(DeprecationWarning, match="sharing"):
            group = PhoneNumberRequest(country="US", sharing=Sharing.GROUP)
        for body in (PhoneNumberRequest(country="ZZ"), group):
            try:
                outputs.append(repr(request_internal_phone_number.sync(client=client, body=body)))
            except CloseError as error:
                outputs += [str(error), repr(error)]
        wrong = AuthenticatedClient.from_oauth_token(base, TOKEN + "x", raise_errors=True)
        with pytest.raises(CloseError) as raised:
            request_internal_phone_number.sync(client=wrong, body=PhoneNumberRequest(country="US"))
        outputs += [str(raised.value), repr(raised.value), repr(wrong)]
    outputs += [mock.out, mock.err]
    files = [path for path in tmp_path.rglob("*") if path.is_file() and path != canary_scenario]
    assert (reports / "report.json").exists()
    assert (reports / "junit.xml").exists()
    found = {f"output {i}": leaks(text) for i, text in enumerate(outputs) if leaks(text)}
    found |= {
        str(path): leaks(path.read_text(errors="replace")) for path in files if leaks(path.read_text(errors="replace"))
    }
    assert found == {}
    assert "Result:" in outputs[0]  # the run really happened
    # The canaries really were sent, and written only redacted: both schemes appear in the HAR as [REDACTED].
    har = (reports / "exchanges.har").read_text()
    assert "Basic [REDACTED]" in har
    assert "Bearer [REDACTED]" in har


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("CLOSE_")}
