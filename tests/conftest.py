"""Shared fixtures: real SQLite with the real migrations, a hand-made library, a fixed clock."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.core.models import (
    Contact,
    ContactKind,
    EmergencyNumber,
    Resource,
    SupportMessage,
    Topic,
)
from bot.core.ports import Library
from bot.storage.database import Database
from bot.storage.migrate import migrate


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "haven.db")
    await migrate(database)
    try:
        yield database
    finally:
        await database.close()


TOPICS = (
    Topic("general", "General support", "Anything on your mind."),
    Topic("coming-out", "Coming out", "Deciding who to tell, when and how."),
    Topic("crisis", "In crisis", "Right now feels like too much."),
    Topic("harassment", "Harassment", "Being targeted online or offline."),
)


def sample_library() -> Library:
    """A small library with the shapes the rules care about (no real numbers needed)."""
    verified = date(2026, 11, 1)
    return Library(
        topics=TOPICS,
        messages=(
            SupportMessage("general-1", "You matter here.", ("general",)),
            SupportMessage("coming-out-1", "Your pace is the right pace.", ("coming-out",)),
            SupportMessage("coming-out-2", "You decide who knows.", ("coming-out",)),
            SupportMessage("coming-out-3", "Nobody is owed your story.", ("coming-out",)),
            SupportMessage("crisis-1", "Please talk to someone today.", ("crisis",)),
            SupportMessage("harassment-1", "It was not your fault.", ("harassment",)),
        ),
        resources=(
            Resource(
                key="gb-crisisline",
                title="GB Crisis Line",
                url="https://crisis.example.org.uk",
                contacts=(Contact(ContactKind.PHONE, "116 123", "+44116123"),),
                regions=("GB",),
                topics=("crisis", "general"),
                crisis_service=True,
                always_open=True,
                last_verified=verified,
            ),
            Resource(
                key="gb-peerline",
                title="GB Peer Line",
                url="https://peer.example.org.uk",
                contacts=(Contact(ContactKind.PHONE, "0800 000 000", "+44800000000"),),
                regions=("GB",),
                topics=("coming-out", "crisis"),
                crisis_service=False,
                last_verified=verified,
            ),
            Resource(
                key="us-crisisline",
                title="US Crisis Line",
                url="https://crisis.example.com",
                contacts=(Contact(ContactKind.PHONE, "988", "+1988"),),
                regions=("US",),
                topics=("crisis", "general", "coming-out"),
                crisis_service=True,
                always_open=True,
                last_verified=verified,
            ),
            Resource(
                key="us-youthline",
                title="US Youth Line",
                url="https://youth.example.com",
                regions=("US",),
                topics=("coming-out",),
                last_verified=verified,
            ),
            Resource(
                key="au-peerline",
                title="AU Peer Line",
                url="https://peer.example.org.au",
                regions=("AU",),
                topics=("crisis", "coming-out"),
                crisis_service=False,
                last_verified=verified,
            ),
            Resource(
                key="gb-unreviewed",
                title="GB Unreviewed",
                url="https://unreviewed.example.org.uk",
                regions=("GB",),
                topics=("coming-out",),
                needs_review=True,
            ),
            Resource(
                key="global-directory",
                title="Helpline Directory",
                url="https://directory.example.org",
                regions=("global",),
                topics=("crisis", "general", "coming-out", "harassment"),
                last_verified=verified,
            ),
        ),
        emergency_numbers=(
            EmergencyNumber("GB", "999"),
            EmergencyNumber("US", "911"),
            EmergencyNumber("AU", "000"),
        ),
    )


@pytest.fixture(autouse=True)
def _no_error_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Any ERROR record fails the test unless the test says it expects one."""
    caplog.set_level(logging.WARNING)
    yield
    if getattr(caplog, "haven_allow_errors", False):
        return
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    assert not errors, "unexpected ERROR logs: " + "; ".join(r.getMessage() for r in errors)
