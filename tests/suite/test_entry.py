"""The `close-conformance` command's entry point: one line saying what to install when the suite's extra is missing."""

from __future__ import annotations

import sys

import pytest

from conformance.suite import cli, entry


@pytest.mark.parametrize("missing", ["schemathesis", "hypothesis"])
def test_without_the_suites_extra_the_command_says_what_to_install_in_one_line(
    missing: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # `import missing` now raises ImportError, as if not installed
    monkeypatch.setattr(cli, "main", lambda _argv=None: pytest.fail("the command ran without its extra"))
    assert entry.main(["--help"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    install = "pip install 'close-phone-numbers-conformance[suite]'"
    said = f"close-conformance: {missing} is not installed; the conformance suite needs the [suite] extra: {install}"
    assert err.splitlines() == [said]


def test_with_the_extra_installed_the_command_line_runs_with_the_arguments_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[list[str] | None] = []

    def run(argv: list[str] | None = None) -> int:
        seen.append(argv)
        return 7

    monkeypatch.setattr(cli, "main", run)
    assert entry.main(["replay", "x.har"]) == 7
    assert seen == [["replay", "x.har"]]
