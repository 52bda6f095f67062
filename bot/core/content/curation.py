"""CurationService: moderators add, edit, list, enable/disable, remove, import, audit and undo.

Messages and resources are both *library items* and share one path: one lookup, one audited
write (every change is one transaction with its audit entry: who, what, before, after), one
history and one undo. Only what differs is per kind: the fields a moderator supplies and how
they are validated. An edit names the version it started from, so a second moderator editing
the same item gets "changed since you opened it" instead of silently overwriting the first.
Permission is checked here, on every call, through the one moderator gate.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal, TypeVar, overload

from bot.core.commands.grammar import split_list
from bot.core.content.audience import parse_ages, parse_audience
from bot.core.content.hours import HoursError, parse_opening_hours
from bot.core.content.packs import ParsedPack, superseded_in
from bot.core.content.phones import PhoneRefused, read_phone
from bot.core.content.records import item_from_dict, item_kind, item_to_dict, same_content
from bot.core.content.regions import normalise_region
from bot.core.content.topics import is_exact_topic
from bot.core.content.validation import (
    MAX_CONTACT_LENGTH,
    MAX_DESCRIPTION_LENGTH,
    MAX_HOURS_LENGTH,
    MAX_MESSAGE_LENGTH,
    MAX_TITLE_LENGTH,
    check_key,
    check_text,
    check_url,
)
from bot.core.errors import AlreadyExists, Conflict, NotFound, UnknownChoice, ValidationFailed
from bot.core.models import (
    GLOBAL_REGION,
    MAX_RANK,
    Audience,
    AuditEntry,
    Community,
    Contact,
    ContactKind,
    ItemKind,
    LibraryItem,
    Page,
    RequestContext,
    Resource,
    SupportMessage,
    paginate,
)
from bot.core.permissions import moderator_community
from bot.core.ports import (
    Clock,
    CommunityRepository,
    ContentRepository,
    ItemLayer,
    ItemWrite,
    Library,
    LibraryChanges,
    NewAuditEntry,
    Review,
)
from bot.core.scheduling.timezones import parse_timezone
from bot.core.support import SupportService

E = TypeVar("E", SupportMessage, Resource)

HISTORY_LIMIT = 20


@dataclass(frozen=True, slots=True)
class MessageDraft:
    """What a moderator supplied; None means "leave as it is" on edit."""

    text: str | None = None
    topics: str | None = None
    locale: str | None = None
    audience: str | None = None


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
    # Machine-readable hours ("Mo-Fr 13:00-20:30", "24/7") and the zone they are in.
    open: str | None = None
    timezone: str | None = None
    rank: str | None = None
    audience: str | None = None
    ages: str | None = None


@dataclass(frozen=True, slots=True)
class Removal:
    """What `remove` did: which layer the item was on says whether it was removed (own),
    reverted to Haven's version (edited) or hidden (inherited)."""

    item: LibraryItem
    layer: ItemLayer


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import did to messages and resources, and how many topics and emergency
    numbers it added or changed."""

    added: int
    changed: int
    unchanged: int
    settings_changed: int = 0

    def sentence(self) -> str:
        items = f"{self.added} added, {self.changed} changed, {self.unchanged} unchanged"
        if self.settings_changed:
            items += f"; {self.settings_changed} topics or emergency numbers added or changed"
        return items + "."


def _slug(text: str, limit: int = 40) -> str:
    """An ASCII key part: accents folded (Café -> cafe); a title with no Latin letters at all
    (Cyrillic, Japanese, emoji only) gets a short stable digest of itself instead."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:limit].strip("-")
    if slug:
        return slug
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:8] if text.strip() else "item"


def _unique_key(base: str, taken: Iterable[str]) -> str:
    existing = set(taken)
    key, n = base, 2
    while key in existing:
        key, n = f"{base}-{n}", n + 1
    return key


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
        return await moderator_community(self._communities, ctx)

    def _audit(
        self,
        ctx: RequestContext,
        action: str,
        before: LibraryItem | None,
        after: LibraryItem | None,
        undoes: int | None = None,
    ) -> NewAuditEntry:
        item = after or before
        assert item is not None
        return NewAuditEntry(
            actor_id=ctx.actor.id,
            actor_name=ctx.actor.display_name,
            action=action,
            item_kind=item_kind(item),
            item_key=item.key,
            before=item_to_dict(before) if before else None,
            after=item_to_dict(after) if after else None,
            undoes=undoes,
        )

    def _write_of(
        self,
        ctx: RequestContext,
        action: str,
        before: LibraryItem | None,
        after: LibraryItem | None,
        undoes: int | None = None,
    ) -> ItemWrite:
        audit = self._audit(ctx, action, before, after, undoes)
        return ItemWrite(audit.item_kind, before, after, audit)

    async def _write(
        self,
        ctx: RequestContext,
        writes: Sequence[ItemWrite],
        library: LibraryChanges | None = None,
        audit: NewAuditEntry | None = None,
    ) -> None:
        """The one write path: insert, change or delete items, audited, in one transaction."""
        try:
            await self._content.write_items(ctx.community_id, writes, library, audit)
        except AlreadyExists as error:
            write = writes[0]
            verb = write.kind.value
            raise AlreadyExists(
                f"A {verb} with the key '{write.key}' is already in the library.",
                f"See it with `/support-admin {verb} show key:{write.key}`, change it with "
                f"`/support-admin {verb} edit key:{write.key}`, or give another key.",
            ) from error
        finally:
            self._support.invalidate(ctx.community_id)

    async def _topics(self, community_id: str, value: str) -> tuple[str, ...]:
        """Topic slugs from what a moderator typed, read by the same rule as /support's."""
        index = await self._support.index(community_id)
        topics: list[str] = []
        for raw in split_list(value):
            try:
                slug = self._support.resolve_topic(index, raw).slug
            except UnknownChoice as error:
                raise ValidationFailed(
                    [f"topics: '{raw[:64]}' is not a topic here."], error.hint
                ) from None
            if slug not in topics:
                topics.append(slug)
        if not topics:
            known = ", ".join(topic.slug for topic in index.topics)
            raise ValidationFailed(["topics: give at least one topic."], f"Topics are: {known}.")
        return tuple(topics)

    async def topic_filter(self, ctx: RequestContext, topic: str | None) -> str | None:
        """A list filter's topic: a slug, label or alias. Anything else, a typo included, is
        UnknownChoice with the closest topics first: a list filtered by a guess could look
        complete and not be (never an empty "nothing here" either)."""
        if topic is None or not topic.strip():
            return None
        index = await self._support.index(ctx.community_id)
        slug = self._support.resolve_topic(index, topic).slug
        if not is_exact_topic(topic, slug, index.topics):
            others = [t.slug for t in index.topics if t.slug != slug]
            raise UnknownChoice("topic", topic.strip()[:64], [slug, *others])
        return slug

    @staticmethod
    def _regions(value: str) -> tuple[str, ...]:
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

    async def library(self, ctx: RequestContext) -> Library:
        """The caller's library, for a moderator."""
        await self.moderator_community(ctx)
        return await self._support.library(ctx.community_id)

    async def own_library(self, ctx: RequestContext) -> Library:
        """Only the caller's own layer (additions, edited copies, imported topics and
        emergency numbers), for a moderator's `pack export own:yes`."""
        await self.moderator_community(ctx)
        return await self._content.own_library(ctx.community_id)

    def today(self) -> date:
        return self._clock.now().date()

    # ---- any item --------------------------------------------------------------------------

    @overload
    async def get(
        self, ctx: RequestContext, kind: Literal[ItemKind.MESSAGE], key: str
    ) -> SupportMessage: ...

    @overload
    async def get(
        self, ctx: RequestContext, kind: Literal[ItemKind.RESOURCE], key: str
    ) -> Resource: ...

    @overload
    async def get(self, ctx: RequestContext, kind: ItemKind, key: str) -> LibraryItem: ...

    async def get(self, ctx: RequestContext, kind: ItemKind, key: str) -> LibraryItem:
        await self.moderator_community(ctx)
        item = await self._content.get_item(ctx.community_id, kind, key.strip())
        if item is None:
            raise NotFound(
                f"There is no {kind.value} with the key '{key.strip()[:64]}'.",
                f"`/support-admin {kind.value} list` shows every key.",
            )
        return item

    async def set_enabled(
        self, ctx: RequestContext, kind: ItemKind, key: str, enabled: bool
    ) -> LibraryItem:
        current = await self.get(ctx, kind, key)
        after: LibraryItem = replace(current, enabled=enabled, version=current.version + 1)
        if enabled and isinstance(after, Resource):
            # Enabling a resource imported as needs_review is the moderator's confirmation.
            after = replace(after, needs_review=False, last_verified=self._clock.now().date())
        action = "enable" if enabled else "disable"
        await self._write(ctx, [self._write_of(ctx, action, current, after)])
        return after

    async def remove(self, ctx: RequestContext, kind: ItemKind, key: str) -> Removal:
        """Remove the community's own item. A shipped item cannot leave Haven's layer: an
        edited one goes back to Haven's version, an inherited one is hidden."""
        current = await self.get(ctx, kind, key)
        layer = await self._content.item_layer(ctx.community_id, kind, current.key)
        shipped = await self._content.shipped_item(kind, current.key)
        after: LibraryItem | None = None
        if layer is ItemLayer.EDITED and shipped is not None:
            after = replace(shipped, version=current.version + 1)
        elif layer is ItemLayer.INHERITED:
            after = replace(current, enabled=False, version=current.version + 1)
        elif layer is ItemLayer.HIDDEN:
            raise NotFound(
                f"{kind.value.capitalize()} '{current.key}' is Haven's and already hidden here.",
                f"`/support-admin {kind.value} enable key:{current.key}` shows it again.",
            )
        action = {ItemLayer.EDITED: "revert", ItemLayer.INHERITED: "hide"}.get(layer, "remove")
        await self._write(ctx, [self._write_of(ctx, action, current, after)])
        return Removal(current, layer)

    # ---- Haven's updates to items the community kept its own copy of ----------------------

    async def layers(self, ctx: RequestContext, kind: ItemKind) -> dict[str, ItemLayer]:
        """Where each item of the caller's library comes from (Haven's, edited, own), for
        the dashboard's library page."""
        await self.moderator_community(ctx)
        return await self._content.item_layers(ctx.community_id, kind)

    async def updates(self, ctx: RequestContext, kind: ItemKind) -> Sequence[Review]:
        await self.moderator_community(ctx)
        return [r for r in await self._content.reviews(ctx.community_id) if r.kind is kind]

    async def resolve_update(
        self, ctx: RequestContext, kind: ItemKind, key: str, take: bool
    ) -> Review:
        """Keep the community's own copy, or take Haven's new version in its place."""
        await self.moderator_community(ctx)
        review = next((r for r in await self.updates(ctx, kind) if r.key == key.strip()), None)
        if review is None:
            raise NotFound(
                f"There is no update to review for {kind.value} '{key.strip()[:64]}'.",
                f"`/support-admin {kind.value} updates` lists what is waiting.",
            )
        write: ItemWrite | None = None
        if take and review.own is not None:
            after = (
                replace(review.after, version=review.own.version + 1)
                if review.after is not None
                else None
            )
            write = self._write_of(ctx, "update.take", review.own, after)
        # Taking is an item change (undo reverts it); keeping records the decision, with
        # Haven's old and new versions.
        audit = (
            write.audit
            if write is not None
            else NewAuditEntry(
                actor_id=ctx.actor.id,
                actor_name=ctx.actor.display_name,
                action="update.take" if take else "update.keep",
                item_kind=kind,
                item_key=review.key,
                before=item_to_dict(review.before),
                after=item_to_dict(review.after) if review.after is not None else None,
            )
        )
        try:
            await self._content.resolve_review(ctx.community_id, kind, review.key, write, audit)
        finally:
            self._support.invalidate(ctx.community_id)
        return review

    async def list_items(
        self,
        ctx: RequestContext,
        kind: ItemKind,
        page: int,
        topic: str | None = None,
        region: str | None = None,
    ) -> Page[LibraryItem]:
        await self.moderator_community(ctx)
        slug = await self.topic_filter(ctx, topic)
        wanted_region = normalise_region(region) if region else None
        library = await self._support.library(ctx.community_id)
        items: Sequence[LibraryItem] = (
            library.messages if kind is ItemKind.MESSAGE else library.resources
        )
        return paginate(
            [
                item
                for item in items
                if (slug is None or slug in item.topics)
                and (
                    wanted_region is None
                    or (isinstance(item, Resource) and wanted_region in item.regions)
                )
            ],
            page,
        )

    async def history(
        self, ctx: RequestContext, kind: ItemKind, key: str | None, limit: int = HISTORY_LIMIT
    ) -> Sequence[AuditEntry]:
        """Newest first; the chat shows HISTORY_LIMIT, the dashboard's page more."""
        await self.moderator_community(ctx)
        return await self._content.history(ctx.community_id, kind, key, max(1, min(limit, 500)))

    async def undo(self, ctx: RequestContext, kind: ItemKind, key: str) -> AuditEntry:
        """Revert the item's newest change, recorded as a new change. Only the newest: a second
        undo finds it already undone and says so, rather than reaching further back."""
        await self.moderator_community(ctx)
        entries = await self._content.history(ctx.community_id, kind, key, HISTORY_LIMIT)
        # Haven's own changes to its shipped layer are not the moderators' to undo here.
        last = next(
            (e for e in entries if e.action != "undo" and not e.action.startswith("shipped.")),
            None,
        )
        if last is None:
            raise NotFound(f"There is no change to undo for {kind.value} '{key}'.")
        if last.undone:
            raise NotFound(
                f"Nothing left to undo for {kind.value} '{key}': its last change "
                f"({last.action}) was already undone.",
                f"`/support-admin {kind.value} history key:{key}` shows every change.",
            )
        current = await self._content.get_item(ctx.community_id, kind, last.item_key)
        restored = item_from_dict(kind, last.before) if last.before else None
        after = self._undone(current, restored, last)
        if current is None and after is None:
            raise NotFound(f"There is nothing left to undo for {kind.value} '{key}'.")
        await self._write(ctx, [self._write_of(ctx, "undo", current, after, undoes=last.id)])
        return last

    @staticmethod
    def _undone(
        current: LibraryItem | None, restored: LibraryItem | None, last: AuditEntry
    ) -> LibraryItem | None:
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

    async def _taken_keys(self, community_id: str, kind: ItemKind) -> set[str]:
        library = await self._support.library(community_id)
        items: Sequence[LibraryItem] = (
            library.messages if kind is ItemKind.MESSAGE else library.resources
        )
        return {item.key for item in items}

    # ---- messages --------------------------------------------------------------------------

    async def add_message(self, ctx: RequestContext, draft: MessageDraft) -> SupportMessage:
        await self.moderator_community(ctx)
        problems = check_text(
            "text", draft.text or "", max_length=MAX_MESSAGE_LENGTH, allow_newlines=True
        )
        if problems:
            raise ValidationFailed(problems)
        topics = await self._topics(ctx.community_id, draft.topics or "general")
        text = (draft.text or "").strip()
        base = f"{topics[0]}-{_slug(' '.join(text.split()[:4]), 30)}"
        message = SupportMessage(
            key=_unique_key(base, await self._taken_keys(ctx.community_id, ItemKind.MESSAGE)),
            text=text,
            topics=topics,
            locale=(draft.locale or "en").strip() or "en",
            audience=parse_audience("audience", draft.audience or Audience.EVERYONE.value),
        )
        await self._write(ctx, [self._write_of(ctx, "add", None, message)])
        return message

    async def edit_message(
        self, ctx: RequestContext, key: str, draft: MessageDraft, expected_version: int | None
    ) -> SupportMessage:
        current = self._started_from(await self.get(ctx, ItemKind.MESSAGE, key), expected_version)
        changes: dict[str, object] = {}
        problems: list[str] = []
        if draft.text is not None:
            problems += check_text(
                "text", draft.text, max_length=MAX_MESSAGE_LENGTH, allow_newlines=True
            )
            changes["text"] = draft.text.strip()
        if draft.topics is not None:
            changes["topics"] = await self._topics(ctx.community_id, draft.topics)
        if draft.locale is not None:
            changes["locale"] = draft.locale.strip() or "en"
        if draft.audience is not None:
            try:
                changes["audience"] = parse_audience("audience", draft.audience)
            except ValidationFailed as error:
                problems += error.problems
        if problems:
            raise ValidationFailed(problems)
        if not changes:
            raise ValidationFailed(
                ["Nothing to change: give text:, topics:, locale: or audience:."]
            )
        after = replace(current, **changes, version=current.version + 1)  # type: ignore[arg-type]
        await self._write(ctx, [self._write_of(ctx, "edit", current, after)])
        return after

    # ---- resources -------------------------------------------------------------------------

    async def _resource_fields(
        self, community_id: str, draft: ResourceDraft, current: Resource | None
    ) -> dict[str, object]:
        """Validate every supplied field at once, so one answer lists every problem."""
        problems: list[str] = []
        hints: list[str] = []
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
        # A number without + is read as dialled in the resource's region, so the regions this
        # call sets (or the resource already has) are read before the phone.
        regions: tuple[str, ...] = current.regions if current else ()
        try:
            if draft.regions is not None:
                regions = fields["regions"] = self._regions(draft.regions)
        except ValidationFailed as error:
            problems += error.problems
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
            # The pack checker's list of replaced numbers holds for a moderator's edit too.
            problems += [
                f"{kind.value}: {number} is superseded ({why}); give the current number."
                for number, why in superseded_in(value)
            ]
            e164 = None
            if kind is ContactKind.PHONE:
                try:
                    phone = read_phone(value, regions)
                except PhoneRefused as refused:
                    problems.append(f"phone: {refused}")
                else:
                    e164 = phone.e164 if phone else None
            if kind is ContactKind.CHAT:
                problems += check_url("chat", value)
            contacts.append(Contact(kind=kind, display=value.strip(), e164=e164))
        if draft.regions is not None and draft.phone is None and "regions" in fields:
            # New regions change where a number without + is dialled: read the kept one again.
            contacts = [self._phone_in(contact, regions, problems) for contact in contacts]
        fields["contacts"] = tuple(contacts)
        if draft.crisis is not None:
            try:
                fields["crisis_service"] = _parse_yes_no("crisis", draft.crisis)
            except ValidationFailed as error:
                problems += error.problems
        try:
            if draft.topics is not None:
                fields["topics"] = await self._topics(community_id, draft.topics)
        except ValidationFailed as error:
            problems += [
                f"topics: {p}" if not p.startswith("topics:") else p for p in error.problems
            ]
        if draft.key is not None:
            problems += check_key("key", draft.key.strip())
            fields["key"] = draft.key.strip()
        self._ranking_fields(draft, current, fields, problems, hints)
        if problems:
            raise ValidationFailed(problems, " ".join(hint for hint in hints if hint))
        return fields

    @staticmethod
    def _ranking_fields(
        draft: ResourceDraft,
        current: Resource | None,
        fields: dict[str, object],
        problems: list[str],
        hints: list[str],
    ) -> None:
        """rank, audience, ages, open and timezone: read and checked together, because ages
        need a young people's audience and `open` must agree with 24/7."""
        if draft.rank is not None:
            try:
                rank = int(draft.rank.strip())
            except ValueError:
                rank = 0
            if not 1 <= rank <= MAX_RANK:
                problems.append(
                    f"rank: '{draft.rank.strip()[:10]}' must be a whole number from 1 to "
                    f"{MAX_RANK}; lower comes first."
                )
            fields["rank"] = rank
        audience = current.audience if current else Audience.EVERYONE
        if draft.audience is not None:
            try:
                audience = fields["audience"] = parse_audience("audience", draft.audience)
            except ValidationFailed as error:
                problems += error.problems
                hints.append(error.hint)
        ages = (current.age_min, current.age_max) if current else (None, None)
        if draft.ages is not None:
            try:
                ages = parse_ages("ages", draft.ages)
            except ValidationFailed as error:
                problems += error.problems
                hints.append(error.hint)
            fields["age_min"], fields["age_max"] = ages
        elif draft.audience is not None and audience is not Audience.YOUNG_PEOPLE:
            # Ages belong to a young people's service; a new audience drops them.
            ages = fields["age_min"], fields["age_max"] = (None, None)
        if ages != (None, None) and audience is not Audience.YOUNG_PEOPLE:
            problems.append(
                "ages: only a young people's service has an age range; add "
                "audience:young-people, or leave ages out."
            )
        if draft.open is not None:
            text = draft.open.strip()
            if not text or text.lower() == "none":
                fields["opening_hours"] = ""
            else:
                try:
                    hours = parse_opening_hours(text)
                except HoursError as error:
                    problems.append(f"open: {error}")
                else:
                    fields["opening_hours"] = hours.text
                    # Machine-readable 24/7 is the same fact as always_open.
                    fields["always_open"] = hours.always
        if draft.timezone is not None:
            text = draft.timezone.strip()
            if not text or text.lower() == "none":
                fields["timezone"] = ""
            else:
                try:
                    fields["timezone"] = parse_timezone(text)
                except ValidationFailed as error:
                    problems += [f"timezone: {p}" for p in error.problems]
                    hints.append(error.hint)

    @staticmethod
    def _phone_in(contact: Contact, regions: Sequence[str], problems: list[str]) -> Contact:
        if contact.kind is not ContactKind.PHONE:
            return contact
        try:
            phone = read_phone(contact.display, regions)
        except PhoneRefused as refused:
            problems.append(f"phone: {refused} Give phone: with the number for these regions.")
            return contact
        return replace(contact, e164=phone.e164 if phone else None)

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
        key = str(fields.pop("key", "") or "")
        if not key:
            base = f"{str(regions[0]).lower()}-{_slug(draft.title or '')}"
            key = _unique_key(base, await self._taken_keys(ctx.community_id, ItemKind.RESOURCE))
        resource = Resource(
            key=key,
            last_verified=self._clock.now().date(),
            source_url=str(fields.get("url", "")),
            **fields,  # type: ignore[arg-type]
        )
        await self._write(ctx, [self._write_of(ctx, "add", None, resource)])
        return resource

    async def edit_resource(
        self, ctx: RequestContext, key: str, draft: ResourceDraft, expected_version: int | None
    ) -> Resource:
        current = self._started_from(await self.get(ctx, ItemKind.RESOURCE, key), expected_version)
        if all(getattr(draft, name) is None for name in draft.__dataclass_fields__):
            raise ValidationFailed(["Nothing to change: give at least one field to edit."])
        fields = await self._resource_fields(ctx.community_id, replace(draft, key=None), current)
        after = replace(current, **fields, version=current.version + 1)  # type: ignore[arg-type]
        await self._write(ctx, [self._write_of(ctx, "edit", current, after)])
        return after

    # ---- packs -----------------------------------------------------------------------------

    @staticmethod
    def versions(library_items: Iterable[LibraryItem]) -> dict[tuple[ItemKind, str], int]:
        """Each item's version, as a preview saw them: `import_pack` refuses if one moved."""
        return {(item_kind(item), item.key): item.version for item in library_items}

    async def import_pack(
        self,
        ctx: RequestContext,
        pack: ParsedPack,
        seen: dict[tuple[ItemKind, str], int] | None = None,
    ) -> ImportSummary:
        """Import a pack item by item: each added or changed item gets its own audit entry and
        a new version, so `history` shows the import and `undo` reverts it. Topics and emergency
        numbers are upserted with one audit entry for the pack. One transaction for all."""
        await self.moderator_community(ctx)
        library = await self._support.library(ctx.community_id)
        stored: tuple[LibraryItem, ...] = (*library.messages, *library.resources)
        incoming_items: tuple[LibraryItem, ...] = (*pack.messages, *pack.resources)
        current = {(item_kind(item), item.key): item for item in stored}
        writes: list[ItemWrite] = []
        unchanged = 0
        for incoming in incoming_items:
            before = current.get((item_kind(incoming), incoming.key))
            if seen is not None and seen.get((item_kind(incoming), incoming.key)) != (
                before.version if before else None
            ):
                # The preview showed other versions: applying now could undo someone's edit.
                raise Conflict(
                    f"The library changed since the preview ({item_kind(incoming).value} "
                    f"{incoming.key}); nothing was imported.",
                    "Run pack import again to see what it would change now.",
                )
            if before is not None and same_content(before, incoming):
                unchanged += 1
                continue
            after = replace(incoming, version=before.version + 1 if before else 1)
            writes.append(self._write_of(ctx, "import", before, after))
        await self._write(
            ctx,
            writes,
            # Only what differs from the library as it is goes on the own layer: a topic or
            # number equal to Haven's stays Haven's (and keeps receiving its corrections).
            library=LibraryChanges(
                topics=tuple(t for t in pack.topics if t not in library.topics),
                emergency_numbers=tuple(
                    n for n in pack.emergency_numbers if n not in library.emergency_numbers
                ),
            ),
            audit=NewAuditEntry(
                actor_id=ctx.actor.id,
                actor_name=ctx.actor.display_name,
                action="pack.import",
                item_kind=ItemKind.SETTINGS,
                item_key="pack",
                before=None,
                after={
                    "pack": pack.pack_id,
                    "version": pack.version,
                    "messages": len(pack.messages),
                    "resources": len(pack.resources),
                },
            ),
        )
        added = sum(1 for write in writes if write.before is None)
        settings_changed = len(set(pack.topics) - set(library.topics)) + len(
            set(pack.emergency_numbers) - set(library.emergency_numbers)
        )
        return ImportSummary(added, len(writes) - added, unchanged, settings_changed)
