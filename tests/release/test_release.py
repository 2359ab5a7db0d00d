"""Shipping: reproducible, checked dist files that install and work; valid workflows; the reusable action."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import yaml

from conformance import contract
from conformance.mock.server import MockServer
from tests.suite.faulty import FAULTS, FaultyServer

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def digests(directory: Path) -> dict[str, str]:
    return {file.name: hashlib.sha256(file.read_bytes()).hexdigest() for file in sorted(directory.iterdir())}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "dist.py"), "--outdir", str(out)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_make_dist_builds_four_files_that_pass_twine_check_strict(dist: Path) -> None:
    names = sorted(file.name for file in dist.iterdir())
    version = contract.today().version  # the client's and the conformance package's too (release.py checks)
    assert names == [
        f"close_phone_numbers_client-{version}-py3-none-any.whl",
        f"close_phone_numbers_client-{version}.tar.gz",
        f"close_phone_numbers_conformance-{version}-py3-none-any.whl",
        f"close_phone_numbers_conformance-{version}.tar.gz",
    ]
    check = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.iterdir())],
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("PASSED") == 4


def test_two_builds_are_byte_identical(dist: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "dist.py"), "--outdir", str(again)],
                   capture_output=True, check=True)  # fmt: skip
    assert digests(again) == digests(dist)


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean venv with both packages installed from the built files (the suite with its extra)."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.create(env_dir, with_pip=True)
    wheel = next(dist.glob("close_phone_numbers_conformance-*.whl"))
    client_sdist = next(dist.glob("close_phone_numbers_client-*.tar.gz"))
    done = subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-c", str(ROOT / "requirements.lock"), f"{wheel}[suite]", str(client_sdist)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return env_dir


def clean_env(env_dir: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("CLOSE_", "PYTHON", "VIRTUAL_ENV", "GITHUB_"))}
    return {**keep, "PATH": f"{env_dir / 'bin'}{os.pathsep}{keep.get('PATH', '')}", **extra}


def test_the_built_files_install_in_a_clean_venv_and_work(installed: Path, tmp_path: Path) -> None:
    script = (
        "from close_phone_numbers_client import AuthenticatedClient\n"
        "from close_phone_numbers_client.api.phone_numbers import request_internal_phone_number as rent\n"
        "from close_phone_numbers_client.models import PhoneNumber, PhoneNumberRequest\n"
        "from conformance.mock import MockServer, build\n"
        "with MockServer(build()) as mock:\n"
        "    c = AuthenticatedClient.from_api_key(mock.origin + '/api/v1', 'mock_admin_key')\n"
        "    assert isinstance(rent.sync(client=c, body=PhoneNumberRequest(country='US')), PhoneNumber)\n"
        "print('ok')\n"
    )
    used = subprocess.run([str(installed / "bin" / "python"), "-c", script], capture_output=True, text=True,
                          check=False, cwd=tmp_path, env=clean_env(installed))  # fmt: skip
    assert used.stdout.strip() == "ok", used.stderr
    command = [str(installed / "bin" / "close-conformance"), "--quiet", "--examples", "5"]
    suite = subprocess.run(command, capture_output=True, text=True, check=False, cwd=tmp_path, env=clean_env(installed))
    assert suite.returncode == 0, suite.stdout + suite.stderr


def test_the_workflow_linters_pass_and_catch_a_problem(tmp_path: Path) -> None:
    lint = subprocess.run(["make", "-s", "lint-workflows"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    bad = tmp_path / ".github" / "workflows"
    bad.mkdir(parents=True)
    (bad / "bad.yml").write_text(
        "on: pull_request_target\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@v4\n      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    assert subprocess.run([str(BIN / "actionlint"), str(bad / "bad.yml")], capture_output=True, check=False).returncode
    found = subprocess.run([str(BIN / "zizmor"), "--offline", str(bad)], capture_output=True, text=True, check=False)
    assert found.returncode != 0
    assert "template-injection" in found.stdout + found.stderr
    assert "unpinned-uses" in found.stdout + found.stderr


def _expand(text: str, inputs: dict[str, str]) -> str:
    return re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: inputs[m.group(1)], text)


def test_the_actions_steps_write_a_summary_and_annotations_for_a_faulty_server(
    installed: Path, dist: Path, tmp_path: Path
) -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    fault = next(f for f in FAULTS if f.name == "omits a required field")
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    with MockServer(FaultyServer(fault)) as server:
        inputs |= {
            "base-url": server.origin + "/api/v1",
            "mode": "full",
            "max-rentals": "50",
            "report-dir": str(tmp_path / "reports"),
            "package": f"{next(dist.glob('close_phone_numbers_conformance-*.whl'))}[suite]",
        }
        ran = []
        for step in action["runs"]["steps"]:
            if "uses" in step:
                continue  # setup-python and upload-artifact: the venv stands in for one, the test reads the files
            env = clean_env(
                installed,
                GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary), GITHUB_OUTPUT=str(output),
                CLOSE_API_KEY="mock_admin_key", CLOSE_BEARER_TOKEN="mock_oauth_token",
                PIP_CONSTRAINT=str(ROOT / "requirements.lock"),
                **{name: _expand(value, inputs) for name, value in step.get("env", {}).items()},
            )  # fmt: skip
            ran.append(subprocess.run(["bash", "-e", "-c", step["run"]], capture_output=True, text=True,
                                      check=False, env=env, cwd=tmp_path))  # fmt: skip
    install, check = ran
    assert install.returncode == 0, install.stderr
    assert check.returncode == 1, check.stdout + check.stderr
    assert "exit-code=1" in output.read_text()
    markdown = summary.read_text()
    assert "## close-conformance: ❌ NOT CONFORMANT" in markdown
    assert "| response_schema_conformance |" in markdown
    errors = [line for line in check.stdout.splitlines() if line.startswith("::error title=close-conformance%3A ")]
    assert errors, check.stdout
    assert any("response_schema_conformance" in line for line in errors)
    assert all("\n" not in line for line in errors)
    assert json.loads((tmp_path / "reports" / "report.json").read_text())["conformant"] is False
