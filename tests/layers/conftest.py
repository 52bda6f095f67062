"""Fixtures of the layer tests: service settings on either engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.conftest import new_postgres_database


@pytest.fixture
async def settings(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Settings]:
    """Settings for open_services on this engine (a throwaway PostgreSQL database)."""
    if engine == "sqlite":
        yield Settings(database_path=tmp_path / "haven.db")
        return
    async with new_postgres_database(request.getfixturevalue("postgres_server")) as url:
        yield Settings(database_url=url)
