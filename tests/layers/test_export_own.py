"""`haven pack export --own` writes only the community's own layer; without it, the library
the community sees (the shipped layer through its own). And the moderators' `pack export
own:yes` in the console does the same."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_cli import haven


def test_export_own_writes_only_the_own_layer(tmp_path: Path) -> None:
    assert haven(tmp_path, "db", "migrate").returncode == 0
    added = haven(
        tmp_path,
        "console",
        stdin="/support-admin message add topic:general Ours alone.\n"
        '/support-admin resource edit gb-samaritans description:"Our words."\n'
        "/support-admin pack export file:mine.yaml own:yes\n",
    )
    assert added.returncode == 0, added.stdout + added.stderr
    own, full = tmp_path / "own.yaml", tmp_path / "full.yaml"
    assert haven(tmp_path, "pack", "export", "--own", "-o", str(own)).returncode == 0
    assert haven(tmp_path, "pack", "export", "-o", str(full)).returncode == 0
    own_text, full_text = own.read_text(), full.read_text()
    assert "Ours alone." in own_text and "Our words." in own_text
    assert "gb-shout" not in own_text  # Haven's, untouched: not in the own layer
    assert "gb-shout" in full_text and "Ours alone." in full_text
    assert (tmp_path / "mine.yaml").read_text().count("key:") == own_text.count("key:")
    # The own layer is a pack like any other: it checks, and imports back.
    assert haven(tmp_path, "pack", "check", str(own)).returncode == 0
