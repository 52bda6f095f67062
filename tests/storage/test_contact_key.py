"""The contact line's block key: from HAVEN_CONTACT_KEY, or a 0600 file beside the SQLite
database made once; a PostgreSQL Haven without the key keeps the contact line off, saying why."""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.core.errors import StorageUnavailable
from bot.settings import Secret, Settings, SettingsError, load_settings
from bot.storage.contact_key import NEEDS_KEY, key_file_for, load_contact_key


def test_a_key_file_is_made_once_beside_the_database_readable_by_its_owner(
    tmp_path: Path,
) -> None:
    settings = Settings(database_path=tmp_path / "haven.db")
    first = load_contact_key(settings)
    path = key_file_for(tmp_path / "haven.db")
    assert path.name == "haven.db.contact-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.key is not None and first.unavailable == ""
    assert load_contact_key(settings).key == first.key  # the same key on every start
    os.chmod(path, 0o644)
    assert load_contact_key(settings).key == first.key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # tightened again


def test_the_configured_key_wins_and_no_file_is_made(tmp_path: Path) -> None:
    settings = Settings(database_path=tmp_path / "haven.db", contact_key=Secret("x" * 40))
    key = load_contact_key(settings)
    assert key.key is not None and len(key.key) == 32
    assert not key_file_for(tmp_path / "haven.db").exists()
    other = load_contact_key(
        Settings(database_path=tmp_path / "haven.db", contact_key=Secret("y" * 40))
    )
    assert other.key != key.key


def test_postgresql_without_a_key_turns_the_contact_line_off_with_the_reason() -> None:
    settings = Settings(database_url="postgresql://haven@localhost/haven")
    key = load_contact_key(settings)
    assert key.key is None and key.unavailable == NEEDS_KEY
    assert "HAVEN_CONTACT_KEY" in NEEDS_KEY and "PostgreSQL" in NEEDS_KEY


def test_a_short_key_is_a_configuration_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError) as raised:
        load_settings({"HAVEN_CONTACT_KEY": "short"}, env_file=None)
    assert any(p.startswith("HAVEN_CONTACT_KEY: use at least 32") for p in raised.value.problems)
    settings = load_settings({"HAVEN_CONTACT_KEY": "k" * 32}, env_file=None)
    assert settings.contact_key is not None and settings.contact_key in settings.secrets


def test_processes_starting_together_share_one_whole_key(tmp_path: Path) -> None:
    settings = Settings(database_path=tmp_path / "haven.db")
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = list(pool.map(lambda _: load_contact_key(settings).key, range(16)))
    assert keys[0] is not None and set(keys) == {keys[0]}
    assert [p.name for p in tmp_path.iterdir()] == ["haven.db.contact-key"]  # no temporary left


def test_an_empty_or_cut_short_key_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = key_file_for(tmp_path / "haven.db")
    for content in ("", "abc123\n"):
        path.write_text(content, "utf-8")
        os.chmod(path, 0o600)
        with pytest.raises(StorageUnavailable, match="empty or cut short"):
            load_contact_key(Settings(database_path=tmp_path / "haven.db"))
