"""CurationService: moderators add, edit, list, enable/disable, remove, audit and undo content.

Every change is one transaction with its audit entry (who, what, before, after). An edit names
the version it started from, so a second moderator editing the same item gets "changed since you
opened it" instead of silently overwriting the first. Permission is checked here, on every call.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from bot.core.commands.grammar import split_list
from bot.core.content.records import (
    message_from_dict,
    message_to_dict,
    resource_from_dict,
    resource_to_dict,
)
from bot.core.content.regions import normalise_region
from bot.core.content.validation import (
    MAX_CONTACT_LENGTH,
    MAX_DESCRIPTION_LENGTH,
    MAX_HOURS_LENGTH,
    MAX_MESSAGE_LENGTH,
    MAX_TITLE_LENGTH,
    check_e164,
    check_key,
    check_text,
    check_url,
)
from bot.core.errors import Conflict, NotFound, ValidationFailed
from bot.core.models import (
    GLOBAL_REGION,
    AuditEntry,
    Community,
    Contact,
    ContactKind,
    ItemKind,
    Page,
    RequestContext,
    Resource,
    SupportMessage,
    paginate,
)
from bot.core.permissions import require_moderator
from bot.core.ports import Clock, CommunityRepository, ContentRepository, NewAuditEntry
from bot.core.support import SupportService

E = TypeVar("E", SupportMessage, Resource)

HISTORY_LIMIT = 20


@dataclass(frozen=True, slots=True)
class MessageDraft:
    """What a moderator supplied; None means "leave as it is" on edit."""

    text: str | None = None
    topics: str | None = None
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class ResourceDraft:
    title: str | None = None
    url: str | None = None
    topics: str | None = None
    regions: str | None = None
    description: str | None = None
    phone: str | None = None
    sms: str | None = None
    chat: str | None = None
    email: str | None = None
    hours: str | None = None
    crisis: str | None = None
    key: str | None = None


def _slug(text: str, limit: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].strip("-") or "item"


def _parse_yes_no(field: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("yes", "y", "true", "1", "on"):
        return True
    if lowered in ("no", "n", "false", "0", "off"):
        return False
    raise ValidationFailed([f"{field}: answer yes or no (got '{value}')."])


class CurationService:
    def __init__(
        self,
        content: ContentRepository,
        communities: CommunityRepository,
        support: SupportService,
        clock: Clock,
    ) -> None:
        self._content = content
        self._communities = communities
        self._support = support
        self._clock = clock

    # ---- shared steps ----------------------------------------------------------------------

    async def moderator_community(self, ctx: RequestContext) -> Community:
        """The caller's community, after checking the caller moderates it."""
        community = await self._communities.get(ctx.community_id)
        if community is None:
            raise NotFound(
                "Haven has no library for this place yet.",
                "Moderator commands work inside a server or workspace where Haven is installed.",
            )
        require_moderator(community, ctx.actor)
        return community

    def _audit(
        self,
        ctx: RequestContext,
        action: str,
        kind: ItemKind,
        key: str,
        before: dict[str, object] | None,
        after: dict[str, object] | None,
        undoes: int | None = None,
    ) -> NewAuditEntry:
        return NewAuditEntry(
            actor_id=ctx.actor.id,
            actor_name=ctx.actor.display_name,
            action=action,
            item_kind=kind,
            item_key=key,
            before=before,
            after=after,
            undoes=undoes,
        )

    async def _known_topics(self, community_id: str) -> list[str]:
        library = await self._support.library(community_id)
        return [topic.slug for topic in library.topics]

    async def _parse_topics(self, community_id: str, value: str) -> tuple[str, ...]:
        known = await self._known_topics(community_id)
        topics: list[str] = []
        for raw in split_list(value):
            slug = raw.lower()
            if slug not in known:
                closest = difflib.get_close_matches(slug, known, n=len(known), cutoff=0.0)
                raise ValidationFailed(
                    [f"topics: '{raw}' is not a topic here."],
                    "Topics are: " + ", ".join(closest) + ".",
                )
            if slug not in topics:
                topics.append(slug)
        if not topics:
            raise ValidationFailed(
                ["topics: give at least one topic."], "Topics are: " + ", ".join(known) + "."
            )
        return tuple(topics)

    @staticmethod
    def _parse_regions(value: str) -> tuple[str, ...]:
        regions: list[str] = []
        for raw in split_list(value):
            code = GLOBAL_REGION if raw.lower() in (GLOBAL_REGION, "international") else None
            code = code or normalise_region(raw)
            if code not in regions:
                regions.append(code)
        if not regions:
            raise ValidationFailed(
                ["regions: give at least one country code (GB, US ...) or global."]
            )
        return tuple(regions)

    # ---- messages --------------------------------------------------------------------------

    async def get_message(self, ctx: RequestContext, key: str) -> SupportMessage:
        await self.moderator_community(ctx)
        message = await self._content.get_message(ctx.community_id, key.strip())
        if message is None:
            raise NotFound(f"There is no message with the key '{key}'.", "See `message list`.")
        return message

    async def add_message(self, ctx: RequestContext, draft: MessageDraft) -> SupportMessage:
        await self.moderator_community(ctx)
        problems = check_text(
            "text", draft.text or "", max_length=MAX_MESSAGE_LENGTH, allow_newlines=True
        )
        if problems:
            raise ValidationFailed(problems)
        topics = await self._parse_topics(ctx.community_id, draft.topics or "general")
        text = (draft.text or "").strip()
        library = await self._support.library(ctx.community_id)
        existing = {m.key for m in library.messages}
        base = f"{topics[0]}-{_slug(' '.join(text.split()[:4]), 30)}"
        key, n = base, 2
        while key in existing:
            key, n = f"{base}-{n}", n + 1
        message = SupportMessage(
            key=key, text=text, topics=topics, locale=(draft.locale or "en").strip() or "en"
        )
        await self._write_message(ctx, "add", None, message)
        return message

    async def edit_message(
        self, ctx: RequestContext, key: str, draft: MessageDraft, expected_version: int | None
    ) -> SupportMessage:
        current = await self.get_message(ctx, key)
        before = self._started_from(current, expected_version)
        changes: dict[str, object] = {}
        problems: list[str] = []
        if draft.text is not None:
            problems += check_text(
                "text", draft.text, max_length=MAX_MESSAGE_LENGTH, allow_newlines=True
            )
            changes["text"] = draft.text.strip()
        if draft.topics is not None:
            changes["topics"] = await self._parse_topics(ctx.community_id, draft.topics)
        if draft.locale is not None:
            changes["locale"] = draft.locale.strip() or "en"
        if problems:
            raise ValidationFailed(problems)
        if not changes:
            raise ValidationFailed(["Nothing to change: give text:, topics: or locale:."])
        after = replace(current, **changes, version=current.version + 1)  # type: ignore[arg-type]
        await self._write_message(ctx, "edit", before, after)
        return after

    async def set_message_enabled(
        self, ctx: RequestContext, key: str, enabled: bool
    ) -> SupportMessage:
        current = await self.get_message(ctx, key)
        after = replace(current, enabled=enabled, version=current.version + 1)
        await self._write_message(ctx, "enable" if enabled else "disable", current, after)
        return after

    async def remove_message(self, ctx: RequestContext, key: str) -> SupportMessage:
        current = await self.get_message(ctx, key)
        await self._write_message(ctx, "remove", current, None)
        return current

    async def _write_message(
        self,
        ctx: RequestContext,
        action: str,
        before: SupportMessage | None,
        after: SupportMessage | None,
        undoes: int | None = None,
    ) -> None:
        """Insert (no `before`), change, or delete (no `after`), audited in one transaction."""
        item = after or before
        assert item is not None
        await self._content.write_message(
            ctx.community_id,
            before,
            after,
            self._audit(
                ctx,
                action,
                ItemKind.MESSAGE,
                item.key,
                message_to_dict(before) if before else None,
                message_to_dict(after) if after else None,
                undoes,
            ),
        )
        self._support.invalidate(ctx.community_id)

    async def list_messages(
        self, ctx: RequestContext, page: int, topic: str | None
    ) -> Page[SupportMessage]:
        await self.moderator_community(ctx)
        library = await self._support.library(ctx.community_id)
        items = [m for m in library.messages if topic is None or topic in m.topics]
        return paginate(items, page)

    # ---- resources -------------------------------------------------------------------------

    async def get_resource(self, ctx: RequestContext, key: str) -> Resource:
        await self.moderator_community(ctx)
        resource = await self._content.get_resource(ctx.community_id, key.strip())
        if resource is None:
            raise NotFound(f"There is no resource with the key '{key}'.", "See `resource list`.")
        return resource

    async def _resource_fields(
        self, community_id: str, draft: ResourceDraft, current: Resource | None
    ) -> dict[str, object]:
        """Validate every supplied field at once, so one answer lists every problem."""
        problems: list[str] = []
        fields: dict[str, object] = {}
        if draft.title is not None:
            problems += check_text("title", draft.title, max_length=MAX_TITLE_LENGTH)
            fields["title"] = draft.title.strip()
        if draft.url is not None:
            problems += check_url("url", draft.url)
            fields["url"] = draft.url.strip()
        if draft.description is not None:
            problems += check_text(
                "description", draft.description, max_length=MAX_DESCRIPTION_LENGTH, required=False
            )
            fields["description"] = draft.description.strip()
        if draft.hours is not None:
            problems += check_text(
                "hours", draft.hours, max_length=MAX_HOURS_LENGTH, required=False
            )
            fields["hours"] = draft.hours.strip()
        contacts = list(current.contacts) if current else []
        for kind, value in (
            (ContactKind.PHONE, draft.phone),
            (ContactKind.TEXT, draft.sms),
            (ContactKind.CHAT, draft.chat),
            (ContactKind.EMAIL, draft.email),
        ):
            if value is None:
                continue
            contacts = [c for c in contacts if c.kind is not kind]
            if not value.strip() or value.strip().lower() == "none":
                continue
            problems += check_text(kind.value, value, max_length=MAX_CONTACT_LENGTH)
            e164 = None
            if kind is ContactKind.PHONE and value.strip().startswith("+"):
                e164 = "+" + re.sub(r"\D", "", value)
                problems += check_e164("phone", e164)
            if kind is ContactKind.CHAT:
                problems += check_url("chat", value)
            contacts.append(Contact(kind=kind, display=value.strip(), e164=e164))
        fields["contacts"] = tuple(contacts)
        if draft.crisis is not None:
            try:
                fields["crisis_service"] = _parse_yes_no("crisis", draft.crisis)
            except ValidationFailed as error:
                problems += error.problems
        try:
            if draft.topics is not None:
                fields["topics"] = await self._parse_topics(community_id, draft.topics)
        except ValidationFailed as error:
            problems += error.problems
        try:
            if draft.regions is not None:
                fields["regions"] = self._parse_regions(draft.regions)
        except ValidationFailed as error:
            problems += error.problems
        if draft.key is not None:
            problems += check_key("key", draft.key.strip())
            fields["key"] = draft.key.strip()
        if problems:
            raise ValidationFailed(problems)
        return fields

    async def add_resource(self, ctx: RequestContext, draft: ResourceDraft) -> Resource:
        await self.moderator_community(ctx)
        missing = [
            name for name in ("title", "url", "topics", "regions") if getattr(draft, name) is None
        ]
        if missing:
            raise ValidationFailed(
                [f"{name}: is required to add a resource." for name in missing],
                'Example: resource add title:"Samaritans" url:https://www.samaritans.org '
                'topics:crisis regions:GB phone:"116 123"',
            )
        fields = await self._resource_fields(ctx.community_id, draft, None)
        regions = fields["regions"]
        assert isinstance(regions, tuple)
        key = str(fields.pop("key", "") or f"{str(regions[0]).lower()}-{_slug(draft.title or '')}")
        resource = Resource(
            key=key,
            last_verified=self._clock.now().date(),
            source_url=str(fields.get("url", "")),
            **fields,  # type: ignore[arg-type]
        )
        await self._write_resource(ctx, "add", None, resource)
        return resource

    async def edit_resource(
        self, ctx: RequestContext, key: str, draft: ResourceDraft, expected_version: int | None
    ) -> Resource:
        current = await self.get_resource(ctx, key)
        before = self._started_from(current, expected_version)
        fields = await self._resource_fields(ctx.community_id, replace(draft, key=None), current)
        if all(getattr(draft, name) is None for name in draft.__dataclass_fields__):
            raise ValidationFailed(["Nothing to change: give at least one field to edit."])
        after = replace(current, **fields, version=current.version + 1)  # type: ignore[arg-type]
        await self._write_resource(ctx, "edit", before, after)
        return after

    async def set_resource_enabled(self, ctx: RequestContext, key: str, enabled: bool) -> Resource:
        current = await self.get_resource(ctx, key)
        # Enabling a resource imported as needs_review is the moderator's confirmation of it.
        after = replace(current, enabled=enabled, version=current.version + 1)
        if enabled:
            after = replace(after, needs_review=False, last_verified=self._clock.now().date())
        await self._write_resource(ctx, "enable" if enabled else "disable", current, after)
        return after

    async def remove_resource(self, ctx: RequestContext, key: str) -> Resource:
        current = await self.get_resource(ctx, key)
        await self._write_resource(ctx, "remove", current, None)
        return current

    async def _write_resource(
        self,
        ctx: RequestContext,
        action: str,
        before: Resource | None,
        after: Resource | None,
        undoes: int | None = None,
    ) -> None:
        """Insert (no `before`), change, or delete (no `after`), audited in one transaction."""
        item = after or before
        assert item is not None
        await self._content.write_resource(
            ctx.community_id,
            before,
            after,
            self._audit(
                ctx,
                action,
                ItemKind.RESOURCE,
                item.key,
                resource_to_dict(before) if before else None,
                resource_to_dict(after) if after else None,
                undoes,
            ),
        )
        self._support.invalidate(ctx.community_id)

    async def list_resources(
        self, ctx: RequestContext, page: int, topic: str | None, region: str | None
    ) -> Page[Resource]:
        await self.moderator_community(ctx)
        library = await self._support.library(ctx.community_id)
        wanted_region = normalise_region(region) if region else None
        items = [
            r
            for r in library.resources
            if (topic is None or topic in r.topics)
            and (wanted_region is None or wanted_region in r.regions)
        ]
        return paginate(items, page)

    # ---- history and undo ------------------------------------------------------------------

    async def history(
        self, ctx: RequestContext, kind: ItemKind, key: str | None
    ) -> Sequence[AuditEntry]:
        await self.moderator_community(ctx)
        return await self._content.history(ctx.community_id, kind, key, HISTORY_LIMIT)

    async def undo(self, ctx: RequestContext, kind: ItemKind, key: str) -> AuditEntry:
        """Revert the item's last change that is not itself undone; recorded as a new change."""
        await self.moderator_community(ctx)
        entries = await self._content.history(ctx.community_id, kind, key, HISTORY_LIMIT)
        last = next((e for e in entries if not e.undone and e.action != "undo"), None)
        if last is None:
            raise NotFound(f"There is no change to undo for {kind.value} '{key}'.")
        if kind is ItemKind.MESSAGE:
            message = await self._content.get_message(ctx.community_id, last.item_key)
            restored = message_from_dict(last.before) if last.before else None
            after = self._undone(message, restored, last)
            await self._write_message(ctx, "undo", message, after, undoes=last.id)
        elif kind is ItemKind.RESOURCE:
            resource = await self._content.get_resource(ctx.community_id, last.item_key)
            restored_resource = resource_from_dict(last.before) if last.before else None
            undone = self._undone(resource, restored_resource, last)
            await self._write_resource(ctx, "undo", resource, undone, undoes=last.id)
        else:
            raise ValidationFailed([f"Undo is available for messages and resources, not {kind}."])
        return last

    @staticmethod
    def _undone(current: E | None, restored: E | None, last: AuditEntry) -> E | None:
        """What undoing `last` leaves: its `before` (None: it was an add, so delete), refused
        if the item changed since, because undoing then could lose someone's work."""
        after_version = last.after.get("version") if last.after else None
        if (current.version if current else None) != after_version:
            raise Conflict(
                "This item changed after that change was made, so undoing it now could lose "
                "someone's work.",
                "Look at `history` and edit it by hand instead.",
            )
        if restored is None:
            return None
        # The restored content gets a new version: it is a new change, recorded as one.
        base = current.version if current else restored.version
        return replace(restored, version=base + 1)

    @staticmethod
    def _started_from(current: E, expected_version: int | None) -> E:
        """The version the editor opened: a newer stored version makes the write a Conflict."""
        if expected_version is None or expected_version == current.version:
            return current
        raise Conflict(
            "This was changed by someone else since you opened it; nothing was overwritten.",
            "Open it again to see the current version, then make your change.",
        )
