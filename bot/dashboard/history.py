"""The history page: the community's audit trail with before and after, filterable by kind,
item and moderator, with undo (the core's: it reverts an item's newest change only).

Only moderators' changes and Haven's own are listed: refused attempts (someone who may not
moderate typing a moderator command) are audited for the platform's accountability but are
about members, so the dashboard never shows them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aiohttp import web

from bot.core.commands.content import audit_time
from bot.core.models import AuditEntry, ItemKind
from bot.dashboard.site import Dashboard, Handler, moderator

UNDOABLE = (ItemKind.MESSAGE, ItemKind.RESOURCE)
# Entries read per kind: a page a moderator can scroll; filters narrow it further.
PAGE_ENTRIES = 200


@dataclass(frozen=True, slots=True)
class Change:
    """One field's before and after."""

    name: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Entry:
    entry: AuditEntry
    changes: tuple[Change, ...]
    can_undo: bool
    at: str  # in the community's time zone, as the chat's `history` shows it


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def changes_of(entry: AuditEntry) -> tuple[Change, ...]:
    before, after = entry.before or {}, entry.after or {}
    names = sorted(set(before) | set(after))
    return tuple(
        Change(name, _shown(before.get(name)), _shown(after.get(name)))
        for name in names
        if before.get(name) != after.get(name) and name != "version"
    )


def index(dashboard: Dashboard) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        ctx = moderator(request)
        community = await dashboard.services.curation.moderator_community(ctx)
        wanted_kind = request.query.get("kind", "")
        item = request.query.get("item", "").strip()[:80] or None
        who = request.query.get("moderator", "").strip()[:80]
        kinds = [k for k in ItemKind if not wanted_kind or k.value == wanted_kind]
        entries: list[AuditEntry] = []
        for kind in kinds:
            entries.extend(await dashboard.services.curation.history(ctx, kind, item, PAGE_ENTRIES))
        entries.sort(key=lambda e: e.id, reverse=True)
        if who:
            entries = [e for e in entries if who in (e.actor_id, e.actor_name)]
        newest_seen: set[tuple[ItemKind, str]] = set()
        shown: list[Entry] = []
        for entry in entries:
            key = (entry.item_kind, entry.item_key)
            newest = key not in newest_seen and not entry.action.startswith("shipped.")
            if not entry.action.startswith("shipped."):
                newest_seen.add(key)
            can_undo = (
                newest
                and entry.item_kind in UNDOABLE
                and not entry.undone
                and entry.action != "undo"
            )
            at = audit_time(entry.at, community.timezone)
            shown.append(Entry(entry, changes_of(entry), can_undo, at))
        return dashboard.page(
            request,
            "history.html",
            entries=shown,
            kinds=[k.value for k in ItemKind],
            kind=wanted_kind,
            item=item or "",
            who=who,
        )

    return handler


def undo(dashboard: Dashboard) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        ctx = moderator(request)
        kind = ItemKind(request.match_info["kind"])
        key = request.match_info["key"]
        if not await dashboard.services.curation.history(ctx, kind, key):
            # Nothing of that key here (another community's, or none): 404, nothing written.
            return dashboard.page(request, "not_found.html", status=404)
        card = await dashboard.services.router.admin(ctx, kind.value, "undo", {"key": key})
        return dashboard.card_page(request, card, "/history")

    return handler
