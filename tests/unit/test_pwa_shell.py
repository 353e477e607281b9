"""The worker's shell lists every client file, wherever Parley is installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.web import pwa


def test_an_install_inside_a_hidden_folder_still_caches_every_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CI installs into ".venv": the shell once came out empty there.
    static = tmp_path / ".venv" / "site-packages" / "parley" / "static"
    (static / "js").mkdir(parents=True)
    (static / "js" / "app.js").write_text("// app")
    (static / "js" / ".editor-swap").write_text("not served")
    monkeypatch.setattr(pwa, "STATIC_DIR", static)
    assert [p.relative_to(static).as_posix() for p in pwa._static_files()] == ["js/app.js"]
