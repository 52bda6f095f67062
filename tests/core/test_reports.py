"""Reports on resources through the real core and storage, on both engines: counted per
community, resource key, kind and day only; shown to moderators from 3; the log channel told
once per resource and kind; nothing about the reporter kept; no change announced."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.cards import Card, CardTone
from bot.core.commands.content import resource_commands
from bot.core.commands.router import CommandRouter
from bot.core.content.reports import THANKS, ReportService
from bot.core.models import LOCAL_COMMUNITY_ID, Actor, Platform
from bot.storage.reports import SqlReportStore
from bot.storage.repositories import SqlCommunityRepository
from tests.conftest import FixedClock, stored_bytes
from tests.core.conftest import MEMBER, Stack

REPORTER = Actor(id="reporter-4242-unique", display_name="Reporter Person")
SHOWN = "Reports: This number didn't work (last 30 days)"


@dataclass
class Posts:
    """A publisher that records what it was asked to post (optionally failing)."""

    platform: Platform = Platform.CONSOLE
    posted: list[tuple[str, Card, str]] = field(default_factory=list)
    failing: bool = False

    async def publish(
        self, channel_id: str, card: Card, idempotency_key: str, *, community_id: str = ""
    ) -> str:
        if self.failing:
            raise OSError("the platform is unreachable")
        self.posted.append((channel_id, card, idempotency_key))
        return "posted"


@dataclass
class Reporting:
    stack: Stack
    router: CommandRouter
    posts: Posts
    store: SqlReportStore

    async def report(self, line: str = "/support-report gb-crisisline number") -> Card:
        return await self.router.run_text(self.stack.ctx(REPORTER), line)

    async def show(self, key: str = "gb-crisisline") -> dict[str, str]:
        card = await self.router.run_text(
            self.stack.ctx(), f"/support-admin resource show key:{key}"
        )
        assert card.tone is not CardTone.ERROR, card
        return dict(card.fields)


@pytest.fixture
async def reporting(stack: Stack) -> Reporting:
    posts = Posts()
    store = SqlReportStore(stack.db)
    communities = SqlCommunityRepository(stack.db)
    service = ReportService(
        store, stack.content, communities, {Platform.CONSOLE: posts}, stack.clock
    )
    router = CommandRouter(
        stack.support,
        stack.communities,
        [resource_commands(stack.curation, service).table],
        clock=stack.clock,
        refusals=communities,
        reports=service,
    )
    return Reporting(stack, router, posts, store)


async def _set_log_channel(stack: Stack, channel: str = "modlog") -> None:
    async with stack.db.write() as conn:
        await conn.execute(
            "UPDATE communities SET log_channel_id = ? WHERE id = ?", (channel, LOCAL_COMMUNITY_ID)
        )


async def test_the_answer_offers_each_resource_s_reports(reporting: Reporting) -> None:
    card = await reporting.stack.router.support(reporting.stack.ctx(MEMBER), "crisis", "GB")
    line = next(r for r in card.resources if r.title == "GB Crisis Line")
    # A phone number, and always open: every kind applies.
    assert [c.value for c in line.reports] == [
        "/support-report gb-crisisline number",
        "/support-report gb-crisisline link",
        "/support-report gb-crisisline hours",
    ]
    assert "Report a problem: /support-report gb-crisisline <number|link|hours>" in (
        card.plain_text()
    )


async def test_counts_are_per_day_and_hidden_below_three(reporting: Reporting) -> None:
    clock: FixedClock = reporting.stack.clock
    assert await reporting.report() == THANKS
    assert await reporting.report() == THANKS
    assert SHOWN not in await reporting.show()  # 2 reports: nothing at all
    clock.current += timedelta(days=1)
    assert await reporting.report() == THANKS  # answering twice is fine: each click counts
    assert (await reporting.show())[SHOWN] == "3"
    rows = await reporting.stack.db.fetch_all(
        "SELECT community_id, resource_key, kind, day, count FROM resource_reports ORDER BY day"
    )
    today = clock.now().date()
    assert [tuple(r) for r in rows] == [
        (LOCAL_COMMUNITY_ID, "gb-crisisline", "number", (today - timedelta(days=1)).isoformat(), 2),
        (LOCAL_COMMUNITY_ID, "gb-crisisline", "number", today.isoformat(), 1),
    ]
    # Older than 30 days no longer counts.
    clock.current += timedelta(days=30)
    assert SHOWN not in await reporting.show()


async def test_the_log_channel_is_told_once_per_resource_and_kind(reporting: Reporting) -> None:
    await _set_log_channel(reporting.stack)
    for _ in range(2):
        await reporting.report()
    assert reporting.posts.posted == []
    reporting.posts.failing = True
    await reporting.report()  # the third, but the platform is down: tried again next time
    reporting.posts.failing = False
    assert reporting.posts.posted == []
    for _ in range(3):
        await reporting.report()
    ((channel, card, _key),) = reporting.posts.posted
    assert channel == "modlog"
    assert "GB Crisis Line (gb-crisisline)" in card.body
    assert "This number didn't work" in card.body
    # Another kind of the same resource is its own pair, told once too.
    for _ in range(4):
        await reporting.report("/support-report gb-crisisline link")
    assert len(reporting.posts.posted) == 2


async def test_bad_reports_say_what_is_wrong(reporting: Reporting) -> None:
    wrong_kind = await reporting.report("/support-report gb-crisisline phone")
    assert wrong_kind.tone is CardTone.ERROR and "phone" in wrong_kind.body
    assert [c.value for c in wrong_kind.choices] == ["number", "link", "hours"]
    unknown = await reporting.report("/support-report no-such-line link")
    assert unknown.tone is CardTone.ERROR and "no-such-line" in unknown.body
    arity = await reporting.report("/support-report gb-crisisline")
    assert arity.tone is CardTone.ERROR and "Example: /support-report" in arity.footer
    assert await reporting.stack.db.fetch_all("SELECT * FROM resource_reports") == []


async def test_a_report_keeps_nothing_about_the_reporter_and_announces_nothing(
    reporting: Reporting, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    await _set_log_channel(reporting.stack)
    before = await reporting.stack.db.fetch_all(
        "SELECT community_id, revision FROM community_revisions"
    )
    for _ in range(3):
        await reporting.report()
    after = await reporting.stack.db.fetch_all(
        "SELECT community_id, revision FROM community_revisions"
    )
    assert [tuple(r) for r in after] == [tuple(r) for r in before]
    assert REPORTER.id not in repr(reporting.posts.posted)
    await reporting.stack.db.close()
    raw = await stored_bytes(reporting.stack.db, request, tmp_path)
    assert b"gb-crisisline" in raw  # the scan does see what is stored
    assert REPORTER.id.encode() not in raw
    assert REPORTER.display_name.encode() not in raw
