"""Reports from the people who use Haven: "this number didn't work" on a resource, in one click.

The rule, all here: the kinds of report; a report is counted per community, resource key, kind
and day only (nothing about who reported, no time finer than the day); counts are shown to
moderators only from SHOW_AT reports in the last WINDOW_DAYS days; the log channel is told once
per resource and kind when NOTIFY_AT is reached, never again for that pair.

Each click counts, so one person can report twice: with no identity kept there is nothing to
tell two clicks of one person from two people, and keeping one would defeat the point.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot.core.cards import Card, CardTone, Choice
from bot.core.content.validation import make_mentions_inert
from bot.core.errors import NotFound, UnknownChoice
from bot.core.i18n import ENGLISH, N_, Words, translator
from bot.core.models import ContactKind, ItemKind, Platform, RequestContext, Resource
from bot.core.ports import Clock, CommunityRepository, ContentRepository, Publisher, ReportStore

log = logging.getLogger(__name__)

REPORT_COMMAND = "support-report"
# Counts below this are never shown: a single report could point at one person's click.
SHOW_AT = 3
# The log channel is told when a resource and kind reach this many reports in the window.
NOTIFY_AT = 3
WINDOW_DAYS = 30
PUBLISH_TIMEOUT = 10.0


def thanks(words: Words = ENGLISH) -> Card:
    """The answer to every report, whoever sends it, in the reporter's language."""
    return Card(
        title=words.gettext("Thank you — the moderators will check it"),
        body=words.gettext("Your report was counted. Nothing about who sent it was kept."),
        tone=CardTone.SUCCESS,
        locale=words.locale,
    )


THANKS = thanks()


class ReportKind(enum.StrEnum):
    NUMBER = "number"
    LINK = "link"
    HOURS = "hours"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    ReportKind.NUMBER: N_("This number didn't work"),
    ReportKind.LINK: N_("This link is broken"),
    ReportKind.HOURS: N_("Closed when it said open"),
}


def report_line(key: str, kind: ReportKind) -> str:
    """The command line a report control runs (the console types it)."""
    return f"/{REPORT_COMMAND} {key} {kind.value}"


def report_choices(resource: Resource, words: Words = ENGLISH) -> tuple[Choice, ...]:
    """What a person can report about this resource, in their language: a number only where
    it has one to call or text, opening hours only where it states some."""
    kinds = [ReportKind.LINK]
    if any(c.kind in (ContactKind.PHONE, ContactKind.TEXT) for c in resource.contacts):
        kinds.insert(0, ReportKind.NUMBER)
    if resource.hours or resource.always_open:
        kinds.append(ReportKind.HOURS)
    return tuple(
        Choice(label=words.gettext(k.label), value=report_line(resource.key, k)) for k in kinds
    )


def parse_kind(given: str) -> ReportKind:
    try:
        return ReportKind(given.strip().lower())
    except ValueError:
        raise UnknownChoice(
            "report kind",
            given,
            [k.value for k in ReportKind],
            hint="Example: /support-report gb-samaritans number",
        ) from None


def visible(counts: Mapping[str, int]) -> dict[ReportKind, int]:
    """The counts a moderator may see: known kinds with at least SHOW_AT reports."""
    return {kind: counts[kind.value] for kind in ReportKind if counts.get(kind.value, 0) >= SHOW_AT}


@dataclass(frozen=True, slots=True)
class ReportedResource:
    key: str
    title: str
    # Only kinds with at least SHOW_AT reports (see `visible`).
    counts: Mapping[ReportKind, int]


class ReportService:
    def __init__(
        self,
        store: ReportStore,
        content: ContentRepository,
        communities: CommunityRepository,
        publishers: Mapping[Platform, Publisher],
        clock: Clock,
    ) -> None:
        self._store = store
        self._content = content
        self._communities = communities
        self._publishers = publishers
        self._clock = clock

    async def report(self, ctx: RequestContext, key: str, kind_text: str) -> Card:
        """Count one report of `key`; tell the log channel the first time the pair reaches
        NOTIFY_AT. The answer is the same whoever asks and however often."""
        kind = parse_kind(kind_text)
        key = key.strip().lower()
        item = await self._content.get_item(ctx.community_id, ItemKind.RESOURCE, key)
        if not isinstance(item, Resource):
            raise NotFound(
                f"There is no resource '{key[:64]}' here to report.",
                "Use the report control under the resource in a /support answer.",
            )
        today = self._clock.now().date()
        since = today - timedelta(days=WINDOW_DAYS - 1)
        count = await self._store.add_report(ctx.community_id, key, kind.value, today, since)
        if count >= NOTIFY_AT:
            await self._notify(ctx.community_id, item, kind, count)
        return thanks(translator(ctx.locale))

    async def counts(self, community_id: str, key: str) -> dict[ReportKind, int]:
        """Reports per kind in the last WINDOW_DAYS days, only where there are SHOW_AT."""
        since = self._clock.now().date() - timedelta(days=WINDOW_DAYS - 1)
        return visible(await self._store.report_counts(community_id, key, since))

    async def reported(self, community_id: str) -> list[ReportedResource]:
        """Every resource with a kind that has SHOW_AT reports in the last WINDOW_DAYS days
        (what `resource show` would list for it), most reported first."""
        since = self._clock.now().date() - timedelta(days=WINDOW_DAYS - 1)
        by_key: dict[str, dict[str, int]] = {}
        for (key, kind), count in (await self._store.report_totals(community_id, since)).items():
            by_key.setdefault(key, {})[kind] = count
        found: list[ReportedResource] = []
        for key, counts in by_key.items():
            shown = visible(counts)
            if not shown:
                continue
            item = await self._content.get_item(community_id, ItemKind.RESOURCE, key)
            title = item.title if isinstance(item, Resource) else key
            found.append(ReportedResource(key, title, shown))
        found.sort(key=lambda r: (-sum(r.counts.values()), r.key))
        return found

    async def _notify(
        self, community_id: str, item: Resource, kind: ReportKind, count: int
    ) -> None:
        community = await self._communities.get(community_id)
        if community is None or community.log_channel_id is None:
            return  # no log channel: `resource show` still lists the counts
        publisher = self._publishers.get(community.platform)
        if publisher is None:
            return  # not connected in this process; the next report tries again
        if not await self._store.claim_report_notice(community_id, item.key, kind.value):
            return
        card = Card(
            title="People reported a problem with a resource",
            body=make_mentions_inert(
                f'{item.title} ({item.key}): "{kind.label}" — {count} reports in the last '
                f"{WINDOW_DAYS} days.\n\nCheck it on the organisation's own site, then "
                f"`/support-admin resource edit key:{item.key}` to correct it, or "
                f"`/support-admin resource show key:{item.key}` for the counts."
            ),
            tone=CardTone.INFO,
        )
        try:
            await asyncio.wait_for(
                publisher.publish(
                    community.log_channel_id,
                    card,
                    f"report|{community_id}|{item.key}|{kind.value}",
                    community_id=community_id,
                ),
                PUBLISH_TIMEOUT,
            )
        except asyncio.CancelledError:
            raise
        except Exception as error:
            await self._store.unclaim_report_notice(community_id, item.key, kind.value)
            log.warning("Could not post a report notice to %s: %s", community_id, error)
