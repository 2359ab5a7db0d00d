"""Fail when generated_client/ differs from what the contract generates today."""

from __future__ import annotations

import difflib
import sys
import tempfile
from pathlib import Path

from scripts.generate import DEFAULT_OUTPUT, generate

IGNORED = {".ruff_cache", "__pycache__", ".mypy_cache", "dist"}


def tree(root: Path) -> dict[str, bytes]:
    """Map every file below `root` (relative path) to its bytes, skipping caches."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not IGNORED.intersection(path.relative_to(root).parts)
    }


def differences(committed: dict[str, bytes], fresh: dict[str, bytes]) -> list[str]:
    """Describe each file that is missing, extra or different, with a unified diff."""
    report: list[str] = []
    for name in sorted(committed.keys() | fresh.keys()):
        old, new = committed.get(name), fresh.get(name)
        if old == new:
            continue
        if old is None:
            report.append(f"missing from generated_client/: {name}")
        elif new is None:
            report.append(f"stale file in generated_client/ (no longer generated): {name}")
        else:
            diff = difflib.unified_diff(
                old.decode(errors="replace").splitlines(),
                new.decode(errors="replace").splitlines(),
                f"generated_client/{name}",
                f"regenerated/{name}",
                lineterm="",
            )
            report.append("\n".join(diff))
    return report


def main() -> int:
    """Regenerate into a temporary directory and compare with the committed tree."""
    with tempfile.TemporaryDirectory() as scratch:
        fresh_root = Path(scratch) / "generated_client"
        generate(fresh_root)
        report = differences(tree(DEFAULT_OUTPUT), tree(fresh_root))
    if report:
        print("\n".join(report))
        print(f"\ncheck-generated: {len(report)} file(s) differ. Run `make generate` and commit the result.")
        return 1
    print("check-generated: generated_client/ matches the contract")
    return 0


if __name__ == "__main__":
    sys.exit(main())
