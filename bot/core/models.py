"""The domain model: plain, immutable values shared by every service and adapter."""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Generic, TypeVar

from bot.core.errors import ValidationFailed

T = TypeVar("T")

# Ten lines a page keeps every list answer inside every platform's message limits.
PAGE_SIZE = 10


class Platform(enum.StrEnum):
    """Where a community lives. The value prefixes community ids (`discord:123`)."""

    CONSOLE = "console"
    DISCORD = "discord"
    SLACK = "slack"


def community_id_for(platform: Platform, external_id: str) -> str:
    """The stable id Haven stores for a Discord server, Slack workspace or the console."""
    return f"{platform.value}:{external_id}"


LOCAL_COMMUNITY_ID = community_id_for(Platform.CONSOLE, "local")
# A Discord DM has no server: it is served from the default pack and stores nothing.
DIRECT_MESSAGE_COMMUNITY = community_id_for(Platform.DISCORD, "dm")


class CommunityStatus(enum.StrEnum):
    ACTIVE = "active"
    # The bot was removed or the app uninstalled: schedules are paused and the data is
    # purged after the grace period unless the community comes back first.
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Community:
    """One Discord server, Slack workspace, or the local console, with its settings."""

    id: str
    platform: Platform
    name: str = ""
    default_region: str | None = None
    default_locale: str = "en"
    timezone: str = "UTC"
    moderator_role_ids: tuple[str, ...] = ()
    moderator_user_ids: tuple[str, ...] = ()
    log_channel_id: str | None = None
    status: CommunityStatus = CommunityStatus.ACTIVE
    # Why the bot was removed, while status is REMOVED (e.g. "The Slack app was uninstalled").
    removed_reason: str | None = None
    version: int = 1


@dataclass(frozen=True, slots=True)
class Topic:
    slug: str
    label: str
    description: str


class ContactKind(enum.StrEnum):
    PHONE = "phone"
    TEXT = "text"
    CHAT = "chat"
    EMAIL = "email"


@dataclass(frozen=True, slots=True)
class Contact:
    """One way to reach a service, shown exactly as the organisation prints it."""

    kind: ContactKind
    display: str
    # E.164 form of a phone number (`+448000119100`), for tel: links and checks; None otherwise.
    e164: str | None = None


class Audience(enum.StrEnum):
    """Who a resource serves, or whom a message speaks to."""

    EVERYONE = "everyone"
    # Usually with an age range (Childline: under 19): never allowed to displace an all-ages line.
    YOUNG_PEOPLE = "young-people"
    PARENTS_AND_FAMILIES = "parents-and-families"
    ALLIES = "allies"


AUDIENCE_LABELS = {
    Audience.EVERYONE: "everyone",
    Audience.YOUNG_PEOPLE: "young people",
    Audience.PARENTS_AND_FAMILIES: "parents and families",
    Audience.ALLIES: "allies",
}


@dataclass(frozen=True, slots=True)
class MessageTranslation:
    """A message's text in one more language (the key is the locale tag on the message)."""

    text: str
    # Who wrote it, so native speakers know what to review ("machine draft (AI), needs
    # native review"); empty when nobody said.
    translated_by: str = ""
    # The source text was edited after this was written: never shown until a moderator
    # writes it again or confirms it still says the same (bot/core/content/localised.py).
    outdated: bool = False


@dataclass(frozen=True, slots=True)
class ResourceTranslation:
    """A resource's words in one more language. An empty title or hours means the source's
    (an organisation's name is usually its own in every language)."""

    description: str
    title: str = ""
    hours: str = ""
    translated_by: str = ""
    outdated: bool = False


def _sorted_pairs(pairs: tuple[tuple[str, T], ...]) -> tuple[tuple[str, T], ...]:
    return tuple(sorted(pairs, key=lambda pair: pair[0]))


@dataclass(frozen=True, slots=True)
class SupportMessage:
    """A curated supportive text. `key` is stable across packs and edits."""

    key: str
    text: str
    topics: tuple[str, ...]
    locale: str = "en"
    enabled: bool = True
    version: int = 1
    # Whom the text speaks to: a message for parents is labelled as such in the answer.
    audience: Audience = Audience.EVERYONE
    # (locale tag, translation) pairs, kept sorted by tag so two equal sets compare equal
    # (a tuple, not a dict, so the item stays hashable like every other value here).
    translations: tuple[tuple[str, MessageTranslation], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "translations", _sorted_pairs(self.translations))

    def translation(self, locale: str) -> MessageTranslation | None:
        return dict(self.translations).get(locale)


GLOBAL_REGION = "global"
# A resource without an explicit rank sorts after every ranked one of the pack (1-99).
DEFAULT_RANK = 100
MAX_RANK = 999


@dataclass(frozen=True, slots=True)
class Resource:
    """A helpline, guide or directory. `regions` holds ISO 3166-1 codes or `global`."""

    key: str
    title: str
    url: str
    description: str = ""
    contacts: tuple[Contact, ...] = ()
    regions: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    # True only for services that say they handle crisis or suicide, 24/7 or not.
    crisis_service: bool = False
    # True only when the organisation says it is open around the clock.
    always_open: bool = False
    hours: str = ""
    source_url: str = ""
    last_verified: date | None = None
    # Imported from a source we could not verify: hidden until a moderator confirms it.
    needs_review: bool = False
    # For moderators only (why it needs review, what to re-check); never shown to members.
    notes_for_mods: str = ""
    enabled: bool = True
    version: int = 1
    # The pack author's order within a region and topic: lower comes first.
    rank: int = DEFAULT_RANK
    audience: Audience = Audience.EVERYONE
    # Inclusive age range of a young people's service (Childline: age_max 18, "under 19").
    age_min: int | None = None
    age_max: int | None = None
    # Machine-readable hours (`Mo-Fr 13:00-20:30`, `24/7`; content/hours.py) in `timezone`
    # (IANA; empty: the hours are local wherever the person is). Empty: hours not known.
    opening_hours: str = ""
    timezone: str = ""
    # (locale tag, translation) pairs, sorted by tag: see SupportMessage.translations.
    translations: tuple[tuple[str, ResourceTranslation], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "translations", _sorted_pairs(self.translations))

    def translation(self, locale: str) -> ResourceTranslation | None:
        return dict(self.translations).get(locale)

    @property
    def age_limited(self) -> bool:
        """A service only some people may use: it never displaces an all-ages line."""
        return self.audience is Audience.YOUNG_PEOPLE or (
            self.age_min is not None or self.age_max is not None
        )

    @property
    def is_global(self) -> bool:
        return GLOBAL_REGION in self.regions

    @property
    def visible(self) -> bool:
        return self.enabled and not self.needs_review


# What moderators curate item by item: one write path, history and undo for both.
LibraryItem = SupportMessage | Resource


@dataclass(frozen=True, slots=True)
class EmergencyNumber:
    """The number to call in immediate danger, per region (999 in GB, 000 in AU)."""

    region: str
    number: str
    needs_review: bool = False


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is calling, with the facts the adapter read from the platform.

    The core decides what those facts allow (see `permissions.is_moderator`): adapters never
    decide permission themselves. The id is only ever stored for moderator actions (audit).
    """

    id: str
    display_name: str = ""
    # Discord: Manage Server; Slack: workspace admin or owner; console: the local operator.
    has_admin_permission: bool = False
    role_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RequestContext:
    """One inbound request, platform-neutral. Nothing here is stored for `/support`."""

    community_id: str
    platform: Platform
    actor: Actor
    locale: str | None = None
    in_direct_message: bool = False
    channel_id: str | None = None


class ItemKind(enum.StrEnum):
    """What a moderator can curate; also the `item_kind` of audit entries."""

    MESSAGE = "message"
    RESOURCE = "resource"
    SETTINGS = "settings"
    SCHEDULE = "schedule"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One moderator change: who, what, and the item before and after (as plain dicts)."""

    id: int
    community_id: str
    actor_id: str
    actor_name: str
    action: str
    item_kind: ItemKind
    item_key: str
    before: dict[str, object] | None
    after: dict[str, object] | None
    at: str  # ISO-8601 UTC; moderator actions are accountable, support requests never are
    undone: bool = False


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list answer."""

    items: tuple[T, ...]
    page: int
    page_count: int
    total: int
    extra: dict[str, object] = field(default_factory=dict)


def paginate(items: Sequence[T], page: int, *, clamp: bool = False) -> Page[T]:
    """Page `page` (from 1) of `items`. Past the end: the last page when `clamp`, else a
    ValidationFailed naming the pages there are."""
    page_count = max(1, math.ceil(len(items) / PAGE_SIZE))
    if clamp:
        page = min(max(page, 1), page_count)
    if page < 1 or page > page_count:
        raise ValidationFailed(
            [f"page: there are {page_count} page(s); page {page} does not exist."],
            f"Ask for a page from 1 to {page_count}.",
        )
    start = (page - 1) * PAGE_SIZE
    return Page(
        items=tuple(items[start : start + PAGE_SIZE]),
        page=page,
        page_count=page_count,
        total=len(items),
    )
