"""The conformance/mock project works as an installed wheel: contract, scenario and settings inside."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_serves_the_mock_alone_and_the_suite_with_its_extra_outside_the_tree(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    wheel = next(dist.glob("close_phone_numbers_conformance-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-c", str(ROOT / "requirements.lock"), str(wheel)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CLOSE_API_KEY", "CLOSE_BEARER_TOKEN")}
    where = subprocess.run(
        [str(python), "-c", "from conformance import contract; print(contract.contract_path())"],
        capture_output=True, text=True, check=False, cwd=tmp_path, env=clean_env,
    )  # fmt: skip
    assert "site-packages/conformance/_contract/close-phone-numbers.yaml" in where.stdout, where.stdout + where.stderr
    baseline = subprocess.run(
        [str(python), "-c", "from conformance import contract; print(contract.seed().version)"],
        capture_output=True, text=True, check=False, cwd=tmp_path, env=clean_env,
    )  # fmt: skip
    assert baseline.stdout.strip() == "1.0.0", baseline.stderr
    # The base install is the mock: no schemathesis, and close-conformance says what to install.
    lean = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print(u.find_spec('schemathesis') is None)"],
        capture_output=True, text=True, check=False, env=clean_env,
    )  # fmt: skip
    assert lean.stdout.strip() == "True"
    hint = subprocess.run(
        [str(env_dir / "bin" / "close-conformance"), "--quiet"],
        capture_output=True, text=True, check=False, cwd=tmp_path, env=clean_env,
    )  # fmt: skip
    assert hint.returncode == 2
    assert "close-phone-numbers-conformance[suite]" in hint.stderr
    assert "Traceback" not in hint.stderr
    with_suite = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-c", str(ROOT / "requirements.lock"), f"{wheel}[suite]"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert with_suite.returncode == 0, with_suite.stdout + with_suite.stderr
    run = subprocess.run(
        [str(env_dir / "bin" / "close-conformance"), "--quiet", "--examples", "10", "--report-dir", "reports"],
        capture_output=True, text=True, check=False, cwd=tmp_path, env=clean_env,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Result: CONFORMANT" in run.stdout
    assert "<html" in (tmp_path / "reports" / "report.html").read_text()  # the page's template is in the wheel
    assert not (tmp_path / ".hypothesis").exists()  # nothing left in the user's directory
