"""The architecture is a test: import-linter's contracts (pyproject.toml) hold for the code."""

from __future__ import annotations

from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_are_kept(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_a_broken_contract_fails(monkeypatch, tmp_path) -> None:
    # The same runner reports a contract the code breaks (workflows builds on the core), so the
    # test above cannot pass because nothing was checked.
    config = tmp_path / "broken.ini"
    config.write_text(
        "[importlinter]\nroot_packages =\n    sodium\n    workflows\n\n"
        "[importlinter:contract:core]\nname = Workflows may not use the core\n"
        "type = forbidden\nsource_modules = workflows\nforbidden_modules = sodium\n"
    )
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(config), no_cache=True) == 1
