"""Release helpers for the release workflow: check a tag against the versions, print the release notes.

* `python scripts/release.py check-tag v1.1.0`: the tag must be `v` + the contract's
  `info.version`, which is the client's version, and the conformance package's version.
* `python scripts/release.py notes 1.1.0`: the CHANGELOG.md section of that version.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def versions() -> dict[str, str]:
    """The versions a release must agree on."""
    contract = yaml.safe_load((ROOT / "openapi" / "close-phone-numbers.yaml").read_text(encoding="utf-8"))
    client = tomllib.loads((ROOT / "generated_client" / "pyproject.toml").read_text(encoding="utf-8"))
    conformance = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {
        "contract info.version": str(contract["info"]["version"]),
        "close-phone-numbers-client": str(client["project"]["version"]),
        "close-phone-numbers-conformance": str(conformance["project"]["version"]),
    }


def check_tag(tag: str) -> list[str]:
    """Every disagreement between the tag and the versions (empty when the release may go ahead)."""
    wanted = tag.removeprefix("refs/tags/").removeprefix("v")
    return [f"{name} is {found}, the tag says {wanted}" for name, found in versions().items() if found != wanted]


def notes(version: str) -> str:
    """The CHANGELOG.md section of a version, without its heading."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    found = re.search(rf"^## {re.escape(version)}\b.*?$(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    if found is None:
        raise SystemExit(f"release: CHANGELOG.md has no section for {version}")
    return found.group(1).strip() + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry."""
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = cli.add_subparsers(dest="command", required=True)
    commands.add_parser("check-tag").add_argument("tag")
    commands.add_parser("notes").add_argument("version")
    args = cli.parse_args(argv)
    if args.command == "check-tag":
        problems = check_tag(args.tag)
        for problem in problems:
            print(f"release: {problem}", file=sys.stderr)
        return 1 if problems else 0
    sys.stdout.write(notes(args.version))
    return 0


if __name__ == "__main__":
    sys.exit(main())
