"""Generate generated_client/ from the contract with openapi-python-client.

The run is made independent of the caller's environment: the generator and its ruff
post-hooks come from this interpreter's virtual environment (not whatever PATH says),
ruff reads only the generated package's own pyproject, and any warning fails the run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "openapi" / "close-phone-numbers.yaml"
CONFIG = ROOT / "openapi" / "generator-config.yaml"
TEMPLATES = ROOT / "openapi" / "templates"
DEFAULT_OUTPUT = ROOT / "generated_client"


def generator_env() -> dict[str, str]:
    """Return an environment whose PATH finds this venv's ruff first and nothing user-specific."""
    bin_dir = Path(sys.executable).parent
    env = {key: value for key, value in os.environ.items() if not key.startswith(("RUFF_", "PYTHON"))}
    env["PATH"] = os.pathsep.join([str(bin_dir), os.defpath])
    env["PYTHONHASHSEED"] = "0"
    # ruff would otherwise read ~/.config/ruff when no project config is found.
    env["XDG_CONFIG_HOME"] = str(ROOT / ".no-user-config")
    return env


def generate(output: Path, contract: Path = CONTRACT) -> None:
    """Write the client package generated from `contract` to `output`, replacing it."""
    generator = Path(sys.executable).parent / "openapi-python-client"
    command = [
        str(generator),
        "generate",
        "--path", str(contract),
        "--config", str(CONFIG),
        "--meta", "uv",
        "--output-path", str(output),
        "--overwrite",
        "--fail-on-warning",
    ]  # fmt: skip
    if TEMPLATES.is_dir():
        command += ["--custom-template-path", str(TEMPLATES)]
    result = subprocess.run(command, env=generator_env(), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"generate: openapi-python-client failed (exit {result.returncode})")
    # The ruff post-hooks leave a cache behind; it is not part of the package.
    shutil.rmtree(output / ".ruff_cache", ignore_errors=True)


def main() -> None:
    """Command-line entry: `python scripts/generate.py [--output DIR]`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the package")
    parser.add_argument("--contract", type=Path, default=CONTRACT, help="the contract (default: today's)")
    args = parser.parse_args()
    generate(args.output.resolve(), args.contract.resolve())
    print(f"generated {args.output}")


if __name__ == "__main__":
    main()
