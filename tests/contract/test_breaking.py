"""The breaking-change gate refuses a breaking contract change and accepts today's additive ones."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conformance import contract
from scripts.check_breaking import CHANGELOG, main


def _variant(tmp_path: Path, change, version: str) -> Path:
    document = yaml.safe_load(contract.contract_path().read_text(encoding="utf-8"))
    change(document)
    document["info"]["version"] = version
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _remove_label(document) -> None:
    phone_number = document["components"]["schemas"]["PhoneNumber"]
    del phone_number["properties"]["label"]
    phone_number["required"].remove("label")


def _changelog_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "CHANGELOG.md"
    copy.write_text(CHANGELOG.read_text(encoding="utf-8"), encoding="utf-8")
    return copy


def test_todays_additive_changes_pass_and_the_changelog_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0, capsys.readouterr().err
    assert "no breaking change" in capsys.readouterr().out


def test_a_removed_response_field_is_refused_without_a_major_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    variant = _variant(tmp_path, _remove_label, "1.3.0")
    code = main(["--contract", str(variant), "--changelog", str(_changelog_copy(tmp_path)), "--write"])
    error = capsys.readouterr().err
    assert code == 1
    assert "removed the required property `label`" in error
    assert "major" in error


def test_the_same_change_with_a_new_major_version_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    variant = _variant(tmp_path, _remove_label, "2.0.0")
    changelog = _changelog_copy(tmp_path)
    assert main(["--contract", str(variant), "--changelog", str(changelog), "--write"]) == 0
    assert "removed the required property `label`" in changelog.read_text(encoding="utf-8")


def test_a_changed_contract_needs_a_new_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    variant = _variant(tmp_path, lambda document: None, "1.0.0")
    assert main(["--contract", str(variant), "--changelog", str(_changelog_copy(tmp_path))]) == 1
    assert "info.version was not raised" in capsys.readouterr().err


def test_a_stale_changelog_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(CHANGELOG.read_text(encoding="utf-8").replace("`assign_to`\n", "`assign_to` (edited)\n"))
    assert main(["--changelog", str(changelog)]) == 1
    assert "stale" in capsys.readouterr().err


def test_deprecated_properties_say_so_in_their_description() -> None:
    """The client's templates warn on descriptions that start with "Deprecated"; the contract marks them."""
    for document in (contract.today().document,):
        for name, schema in document["components"]["schemas"].items():
            for prop, spec in schema.get("properties", {}).items():
                if spec.get("deprecated"):
                    target = spec
                    if "$ref" in spec:
                        target = document["components"]["schemas"][spec["$ref"].rsplit("/", 1)[-1]]
                    assert str(target.get("description", "")).startswith("Deprecated"), f"{name}.{prop}"
