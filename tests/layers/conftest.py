"""Fixtures of the layer tests: service settings on either engine."""

from __future__ import annotations

import pytest

from bot.settings import Settings


@pytest.fixture
def settings(engine_settings: Settings) -> Settings:
    """Settings for open_services on this engine (tests/conftest.py engine_settings)."""
    return engine_settings
