"""The generated client works as an installed package: wheel, fresh venv outside the tree, real call."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

from conformance.mock.server import MockServer

ROOT = Path(__file__).resolve().parents[2]

CONSUMER = textwrap.dedent(
    """
    import sys
    import close_phone_numbers_client
    from close_phone_numbers_client import AuthenticatedClient, RequestRefused, RetryPolicy
    from close_phone_numbers_client.api.phone_numbers import request_internal_phone_number
    from close_phone_numbers_client.models import PhoneNumber, PhoneNumberRequest, Refusal, RefusalStatus, Sharing

    assert "site-packages" in close_phone_numbers_client.__file__, close_phone_numbers_client.__file__
    with AuthenticatedClient.from_api_key(sys.argv[1], "mock_admin_key", retry=RetryPolicy(max_retries=1)) as client:
        assert "mock_admin_key" not in repr(client)
        rented = request_internal_phone_number.sync_detailed(
            client=client, body=PhoneNumberRequest(country="US", prefix="415")
        )
        assert rented.status_code == 201, rented.content
        assert isinstance(rented.parsed, PhoneNumber)
        assert rented.parsed.number.startswith("+1415"), rented.parsed.number
        refused = request_internal_phone_number.sync(
            client=client, body=PhoneNumberRequest(country="GB", prefix="20")
        )
        assert isinstance(refused, Refusal) and refused.status is RefusalStatus.HAS_VOICE_ONLY, refused
    with AuthenticatedClient.from_oauth_token(sys.argv[1], "mock_oauth_token", raise_errors=True) as client:
        try:
            body = PhoneNumberRequest(country="ZZ")
            request_internal_phone_number.sync(client=client, body=body)
        except RequestRefused as error:
            assert error.status_code == 404
        else:
            raise AssertionError("expected RequestRefused")
    print("consumer ok", rented.parsed.number)
    """
)


def test_the_wheel_installs_in_a_clean_venv_and_rents_from_the_mock(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT / "generated_client")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout + build.stderr
    wheels = list(dist.glob("close_phone_numbers_client-*.whl"))
    assert len(wheels) == 1, wheels
    env_dir = tmp_path / "consumer-venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-c", str(ROOT / "requirements.lock"), str(wheels[0])],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    script = tmp_path / "consumer.py"
    script.write_text(CONSUMER)
    from conformance.mock import build as build_mock

    with MockServer(build_mock()) as mock:
        result = subprocess.run(
            [str(python), str(script), mock.origin + "/api/v1"],
            capture_output=True, text=True, check=False, cwd=tmp_path,
            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "consumer ok +1415" in result.stdout
