"""The `close-conformance` command: says what to install when the suite's extra is missing."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run the suite's command line, or explain in one line why it cannot run."""
    try:
        import hypothesis  # noqa: F401
        import schemathesis  # noqa: F401
    except ImportError as missing:
        print(
            f"close-conformance: {missing.name} is not installed; the conformance suite needs the [suite] extra: "
            "pip install 'close-phone-numbers-conformance[suite]'",
            file=sys.stderr,
        )
        return 2
    from conformance.suite.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
