"""A new Haven release's shipped pack: installed once per database at start-up, and each
community's moderators told once, in their log channel, what it changed."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence

from bot.core.cards import Card, CardTone
from bot.core.content.packs import ParsedPack, pack_to_changes
from bot.core.content.records import item_to_dict
from bot.core.models import Platform
from bot.core.ports import Publisher, ShippedChange, ShippedLayer

log = logging.getLogger(__name__)

# Lines a notice names before "and N more" (the full list is `resource updates`).
NOTICE_LINES = 10
PUBLISH_TIMEOUT = 10.0


def release_of(pack: ParsedPack) -> str:
    """The release a pack is: its version and a digest of its content, so a corrected
    number is a new release even if the pack author forgot to bump the version."""
    content = {
        "topics": [(t.slug, t.label, t.description) for t in pack.topics],
        "numbers": [(n.region, n.number, n.needs_review) for n in pack.emergency_numbers],
        "messages": [item_to_dict(m) for m in pack.messages],
        "resources": [item_to_dict(r) for r in pack.resources],
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    return f"{pack.version}+{digest[:12]}"


def _title(change: ShippedChange) -> str:
    item = change.after or change.before
    return str(getattr(item, "title", "") or change.key)


def summarise(changes: Sequence[ShippedChange]) -> str:
    """What a release changed, in a few lines for the moderators' log channel."""
    lines: list[str] = []
    for change in changes:
        kind = change.kind.value
        if change.before is None:
            lines.append(f"New {kind}: {_title(change)} ({change.key})")
        elif change.after is None:
            lines.append(f"Retired {kind}: {_title(change)} ({change.key})")
        else:
            lines.append(f"Updated {kind}: {_title(change)} ({change.key})")
    shown = lines[:NOTICE_LINES]
    if len(lines) > NOTICE_LINES:
        shown.append(f"... and {len(lines) - NOTICE_LINES} more.")
    return "\n".join(shown)


class ReleaseService:
    def __init__(self, shipped: ShippedLayer) -> None:
        self._shipped = shipped
        self._sending = asyncio.Lock()

    async def install(self, pack: ParsedPack) -> Sequence[ShippedChange] | None:
        """Make this pack the shipped layer (once per database; None: it already was)."""
        release = release_of(pack)
        changes = await self._shipped.install(pack_to_changes(pack), release, summarise)
        if changes is not None:
            log.info(
                "Shipped pack %s installed (%d items added, changed or retired)",
                release,
                len(changes),
            )
        return changes

    async def send_notices(self, publishers: Mapping[Platform, Publisher]) -> int:
        """Post each waiting release notice once, where the platform is connected. A notice
        is claimed before it is posted (so two processes never both post it) and given back
        if posting fails, to be tried again."""
        sent = 0
        async with self._sending:
            for notice in await self._shipped.pending_notices():
                publisher = publishers.get(notice.platform)
                if publisher is None:
                    continue
                if not await self._shipped.claim_notice(notice.community_id, notice.release):
                    continue
                card = Card(
                    title="Haven updated its shipped helplines and messages",
                    body=f"{notice.summary}\n\nYour own edits were kept. "
                    "`/support-admin resource updates` and `/support-admin message updates` "
                    "list any item where Haven's version changed and yours was kept, with "
                    "before and after, to keep yours or take Haven's.",
                    tone=CardTone.INFO,
                )
                key = f"release|{notice.community_id}|{notice.release}"
                try:
                    await asyncio.wait_for(
                        publisher.publish(notice.channel_id, card, key), PUBLISH_TIMEOUT
                    )
                    sent += 1
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    await self._shipped.unclaim_notice(notice.community_id, notice.release)
                    log.warning(
                        "Could not post the release notice to %s: %s", notice.community_id, error
                    )
        return sent
