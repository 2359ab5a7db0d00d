"""Build the four release files, reproducibly: sdist and wheel of the client and of the conformance package.

The backends are the pinned ones of the venv (`--no-isolation`), and every timestamp inside
the archives is SOURCE_DATE_EPOCH: the time of the last commit (or 1980-01-01 outside git), so
the same tree gives the same bytes. `twine check --strict` then checks the metadata.

Usage: python scripts/dist.py [--outdir dist]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = (ROOT / "generated_client", ROOT)
EPOCH_1980 = "315532800"


def source_date_epoch() -> str:
    """The last commit's time, for every timestamp in the archives."""
    found = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=ROOT, capture_output=True, text=True, check=False)
    return found.stdout.strip() if found.returncode == 0 and found.stdout.strip() else EPOCH_1980


def build(outdir: Path) -> list[Path]:
    """Build both projects into `outdir` (emptied first); return the four files."""
    shutil.rmtree(outdir, ignore_errors=True)
    outdir.mkdir(parents=True)
    env = {**os.environ, "SOURCE_DATE_EPOCH": source_date_epoch(), "PYTHONHASHSEED": "0"}
    # uv_build finds its binary on PATH: this venv's, whatever the caller's PATH says.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)])
    for project in PROJECTS:
        command = [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", str(outdir)]
        built = subprocess.run([*command, str(project)], env=env, capture_output=True, text=True, check=False)
        if built.returncode != 0:
            raise SystemExit(f"dist: building {project.name} failed:\n{built.stdout[-2000:]}{built.stderr[-2000:]}")
    files = sorted(outdir.iterdir())
    if len(files) != 4:
        raise SystemExit(f"dist: expected 4 files, built {[f.name for f in files]}")
    return files


def main() -> int:
    """Command-line entry (`make dist`)."""
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--outdir", type=Path, default=ROOT / "dist")
    args = cli.parse_args()
    files = build(args.outdir.resolve())
    check = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    print(check.stdout.strip())
    if check.returncode != 0:
        print(check.stderr, file=sys.stderr)
        return 1
    for file in files:
        print(f"{hashlib.sha256(file.read_bytes()).hexdigest()}  {file.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
