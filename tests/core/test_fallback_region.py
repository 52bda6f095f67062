"""Storage unavailable during `/support`: the built-in pack answers for the region asked for,
and the log says what failed without anything about the person or their request."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import open_services
from bot.core.cards import Card, CardTone
from bot.core.models import Actor, Platform, RequestContext, community_id_for
from bot.services import Services
from bot.settings import Settings
from tests.conftest import FixedClock
from tests.core.conftest import MODERATOR, Stack

ASKER = Actor(id="asker-4471", display_name="Quiet Asker")


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    """The real composition root: its built-in answer is the shipped default pack."""
    async with open_services(
        Settings(database_path=tmp_path / "haven.db"), clock=FixedClock()
    ) as s:
        yield s


def asker(community: str = "fresh") -> RequestContext:
    return RequestContext(community_id_for(Platform.CONSOLE, community), Platform.CONSOLE, ASKER)


async def support_with_storage_closed(
    services: Services, line: str, caplog: pytest.LogCaptureFixture
) -> Card:
    caplog.haven_allow_errors = True  # type: ignore[attr-defined]
    caplog.set_level(logging.INFO)
    await services.db.close()
    return await services.router.run_text(asker(), line)


async def test_crisis_gb_with_storage_closed_shows_samaritans_and_999(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    card = await support_with_storage_closed(services, "/support crisis GB", caplog)
    assert card.tone is CardTone.SUPPORT and card.region == "GB"
    text = card.plain_text()
    assert "Samaritans" in text
    assert card.body.startswith("If you are in immediate danger, call 999 now.")
    assert card.footer.endswith("call 999.")
    # UK services, and no other country's numbers presented as if they were the asker's.
    assert "Samaritans" in [r.title for r in card.resources]
    assert "988" not in text and "911" not in text
    assert "built-in answer" in caplog.text


@pytest.mark.parametrize(("typed", "number"), [("england", "999"), ("aotearoa", "111")])
async def test_the_region_is_read_with_the_normal_rules(
    services: Services, caplog: pytest.LogCaptureFixture, typed: str, number: str
) -> None:
    card = await support_with_storage_closed(services, f"/support crisis {typed}", caplog)
    assert f"call {number} now" in card.body, card.plain_text()
    # Nothing about the asker or what they typed reaches the log.
    assert typed not in caplog.text.lower()
    assert ASKER.id not in caplog.text and ASKER.display_name not in caplog.text


async def test_no_region_or_an_unreadable_one_gets_international_directories(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    card = await support_with_storage_closed(services, "/support crisis Atlantis", caplog)
    assert card.region is None
    assert "call your local emergency number" in card.body
    assert all("international" in r.badges for r in card.resources)


async def test_the_communitys_default_region_from_memory_is_used(
    stack: Stack, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The settings were read before the content store failed (a locked or corrupt file):
    # the community's region, held in memory, still applies. (The stack's built-in library
    # is the test sample: its GB line and 999.)
    caplog.haven_allow_errors = True  # type: ignore[attr-defined]
    set_region = await stack.router.run_text(
        stack.ctx(MODERATOR), "/support-admin settings region GB"
    )
    assert set_region.tone is CardTone.SUCCESS, set_region.plain_text()
    assert (await stack.support.community(stack.ctx().community_id)) is not None

    async def locked(*args: object) -> None:
        raise OSError("database is locked")

    monkeypatch.setattr(stack.content, "load_library", locked)
    card = await stack.router.run_text(stack.ctx(ASKER), "/support crisis")
    assert card.region == "GB" and "call 999 now" in card.body
    assert card.resources[0].title == "GB Crisis Line"
