"""Baselines and `close-conformance diff`: findings match on their key, never on text, ids or timings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.errors import BaselineError
from conformance.suite import baseline
from conformance.suite.cli import main


def report(path: Path, *keys: str, exercised: tuple[str, ...] = ()) -> Path:
    """A report.json as close-conformance writes it, with findings of these keys."""
    violations = [
        {"key": key, "check": key.split(":")[0], "message": f"{key} at {index} (value {index * 7})",
         "basis": {"kind": "documented", "label": "documented (seed)"}}
        for index, key in enumerate(keys)
    ]  # fmt: skip
    items = {item: {"count": 1} for item in exercised}
    coverage = {"exercised": len(items), "items": 10, "groups": {"status": {"items": items}}}
    record = {"result": "not conformant" if keys else "conformant", "violations": violations, "coverage": coverage,
              "checks": {"rented_number_in_requested_country": {"judged": 5}}}  # fmt: skip
    path.write_text(json.dumps(record))
    return path


def test_findings_match_on_their_keys_whatever_their_messages(tmp_path: Path) -> None:
    old = baseline.load(report(tmp_path / "old.json", "a: x", "b: y"))
    new = baseline.load(report(tmp_path / "new.json", "c: z", "b: y", "a: x"))  # other messages, order, values
    difference = baseline.diff(old, new)
    assert difference.new == ["c: z"]
    assert difference.gone == []
    assert difference.unchanged == ["a: x", "b: y"]


def test_a_baseline_file_and_a_report_are_read_alike(tmp_path: Path) -> None:
    loaded = baseline.load(report(tmp_path / "run.json", "a: x"))
    written = baseline.record(
        [{"key": "a: x", "check": "a", "basis": {"label": "documented (seed)"}, "message": "m"}],
        {"a": 3}, {"exercised": 1, "items": 2, "groups": {}}, "1.2.0",
    )  # fmt: skip
    (tmp_path / "baseline.json").write_text(json.dumps(written))
    again = baseline.load(tmp_path / "baseline.json")
    assert set(again.accepted) == set(loaded.accepted) == {"a: x"}
    assert again.judged == {"a": 3}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON"),
        ('{"something": "else"}', "neither a baseline"),
        ('{"violations": [{"message": "no key"}]}', "have no `key`"),
        ('{"result": "cannot test", "violations": []}', "could not test"),
    ],
)
def test_a_file_that_is_no_baseline_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "x.json").write_text(content)
    with pytest.raises(BaselineError, match=message):
        baseline.load(tmp_path / "x.json")


def test_diff_prints_new_gone_and_coverage_and_exits_1_only_when_something_is_new(tmp_path: Path, capsys) -> None:
    old = report(tmp_path / "old.json", "a: x", "b: y", exercised=("status:rent:201", "status:rent:404"))
    new = report(tmp_path / "new.json", "b: y", "c: z", exercised=("status:rent:201", "status:rent:429"))
    assert main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "New findings: 1\n  - c: z [documented (seed)]" in out
    assert "Gone (fixed): 1\n  - a: x" in out
    assert "Unchanged: 1" in out
    assert "Coverage changes: +status:rent:429, -status:rent:404" in out
    assert main(["diff", str(new), str(new)]) == 0
    assert main(["diff", str(old), str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
