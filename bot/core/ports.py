"""Protocols the core needs from the outside world: storage, clock, publishers.

Implementations live in `bot/storage` (SQLite or PostgreSQL) and `bot/adapters`; tests may pass
their own.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bot.core.cards import Card
from bot.core.models import (
    Actor,
    AuditEntry,
    Community,
    EmergencyNumber,
    ItemKind,
    LibraryItem,
    Platform,
    Resource,
    SupportMessage,
    Topic,
)

if TYPE_CHECKING:
    from bot.core.scheduling.publishing import ChannelInfo
    from bot.core.scheduling.schedules import (
        ClaimedSlot,
        LeaseState,
        NewSchedule,
        Schedule,
        SlotOutcome,
        SlotPlan,
        SlotRecord,
        SlotStatus,
    )


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


@dataclass(frozen=True, slots=True)
class NewAuditEntry:
    """An audit entry to write in the same transaction as the change it records."""

    actor_id: str
    actor_name: str
    action: str
    item_kind: ItemKind
    item_key: str
    before: Mapping[str, object] | None
    after: Mapping[str, object] | None
    # The id of the audit entry this change reverts (undo); marked undone in the same transaction.
    undoes: int | None = None


@dataclass(frozen=True, slots=True)
class Library:
    """Everything `/support` needs for one community, loaded at once and cached in memory."""

    topics: tuple[Topic, ...]
    messages: tuple[SupportMessage, ...]
    resources: tuple[Resource, ...]
    emergency_numbers: tuple[EmergencyNumber, ...]


@dataclass(frozen=True, slots=True)
class ItemWrite:
    """Insert (`before` None), change, or delete (`after` None) one message or resource."""

    kind: ItemKind
    before: LibraryItem | None
    after: LibraryItem | None
    audit: NewAuditEntry

    @property
    def key(self) -> str:
        item = self.after or self.before
        if item is None:
            raise ValueError("an item write needs a before or an after")
        return item.key


@dataclass(frozen=True, slots=True)
class LibraryChanges:
    """A whole-library change (a pack import) applied in one transaction."""

    topics: tuple[Topic, ...] = ()
    upsert_messages: tuple[SupportMessage, ...] = ()
    upsert_resources: tuple[Resource, ...] = ()
    emergency_numbers: tuple[EmergencyNumber, ...] = ()


class CommunityRepository(Protocol):
    async def get(self, community_id: str) -> Community | None: ...

    async def create_if_missing(
        self, community: Community, seed: LibraryChanges | None = None
    ) -> bool:
        """Insert the community with its starting library in one transaction; True if it was
        new, False if it already existed (then nothing is written)."""
        ...

    async def save(
        self, before: Community, after: Community, audit: NewAuditEntry | None
    ) -> Community:
        """Write `after` if the stored version is still `before.version`, else raise Conflict.
        Returns the stored community with its new version."""
        ...

    async def list_removed_since(self, cutoff: datetime) -> Sequence[str]:
        """Ids of communities removed before `cutoff` (due for purging)."""
        ...

    async def mark_removed(self, community_id: str, at: datetime, reason: str) -> None: ...

    async def mark_active(self, community_id: str) -> None: ...

    async def purge(self, community_id: str) -> None:
        """Delete every row that belongs to the community."""
        ...


class ContentRepository(Protocol):
    async def load_library(self, community_id: str) -> Library: ...

    async def get_item(self, community_id: str, kind: ItemKind, key: str) -> LibraryItem | None: ...

    async def write_items(
        self,
        community_id: str,
        writes: Sequence[ItemWrite],
        library: LibraryChanges | None = None,
        audit: NewAuditEntry | None = None,
    ) -> None:
        """Every write (and the topics and emergency numbers of `library`, with `audit`) in one
        transaction. Raises Conflict if a stored item is not the write's `before` (by version),
        and AlreadyExists when inserting a key that exists: then nothing is written."""
        ...

    async def apply_library_changes(
        self, community_id: str, changes: LibraryChanges, audit: NewAuditEntry | None
    ) -> None:
        """Upsert a whole pack in one transaction (idempotent by key)."""
        ...

    async def history(
        self, community_id: str, kind: ItemKind, key: str | None, limit: int
    ) -> Sequence[AuditEntry]:
        """Newest first. `key` None: every item of that kind."""
        ...

    async def mark_undone(self, audit_id: int) -> None: ...

    # ---- layers (content in layers: the shipped layer seen through the community's own) ----

    async def item_layer(self, community_id: str, kind: ItemKind, key: str) -> ItemLayer:
        """Where the community's item comes from (NONE: there is no such item)."""
        ...

    async def item_layers(self, community_id: str, kind: ItemKind) -> dict[str, ItemLayer]:
        """`item_layer` of every item of that kind the community sees, in one read."""
        ...

    async def shipped_item(self, kind: ItemKind, key: str) -> LibraryItem | None:
        """The item as this Haven ships it (None: not shipped)."""
        ...

    async def own_library(self, community_id: str) -> Library:
        """Only the community's own layer: its additions and edited copies, and the topics
        and emergency numbers it imported (for `export --own`)."""
        ...

    async def reviews(self, community_id: str) -> Sequence[Review]:
        """Shipped items that changed while the community kept its own copy, by kind, key."""
        ...

    async def resolve_review(
        self,
        community_id: str,
        kind: ItemKind,
        key: str,
        write: ItemWrite | None,
        audit: NewAuditEntry,
    ) -> None:
        """Close one review item (keep: `write` None; take: `write` replaces the own copy),
        audited, in one transaction. NotFound if there is no such review item."""
        ...


class ItemLayer(enum.StrEnum):
    """Which layer a community's item is read from."""

    OWN = "own"  # the community's own addition: Haven ships no item with its key
    EDITED = "edited"  # the community's own copy of a shipped item
    INHERITED = "inherited"  # the shipped item as Haven ships it
    HIDDEN = "hidden"  # a shipped item the community hid
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Review:
    """Haven's shipped version of an item changed (or was retired: `after` None) while the
    community kept its own copy (`own`; None if it no longer has one)."""

    kind: ItemKind
    key: str
    release: str
    before: LibraryItem
    after: LibraryItem | None
    own: LibraryItem | None


@dataclass(frozen=True, slots=True)
class ShippedChange:
    """One item a new release of the shipped pack added, changed or retired (`after` None)."""

    kind: ItemKind
    key: str
    before: LibraryItem | None
    after: LibraryItem | None


@dataclass(frozen=True, slots=True)
class ReleaseNotice:
    """A release's summary, to post once in one community's log channel."""

    community_id: str
    platform: Platform
    channel_id: str
    release: str
    summary: str


class ShippedLayer(Protocol):
    """The shipped pack, stored once (bot/storage/layers.py)."""

    async def install(
        self,
        pack: LibraryChanges,
        release: str,
        summarise: Callable[[Sequence[ShippedChange]], str],
    ) -> Sequence[ShippedChange] | None:
        """Make `release` the shipped layer, once per database however many processes start
        together (None: it already was). Changed or retired items give each community that
        kept its own copy a review item; every community gets an audit entry per change
        (actor "haven") and, unless this is the first release stored, a notice with
        `summarise(changes)`."""
        ...

    async def pending_notices(self) -> Sequence[ReleaseNotice]:
        """Unsent notices of communities that are active and have a log channel."""
        ...

    async def claim_notice(self, community_id: str, release: str) -> bool:
        """Mark a notice sent; False if another process already did."""
        ...

    async def unclaim_notice(self, community_id: str, release: str) -> None:
        """Sending failed: leave it for the next attempt."""
        ...


class StateRepository(Protocol):
    """Aggregate counters and rotation cursors: nothing here identifies a person."""

    async def load_rotation(self) -> Mapping[tuple[str, str], Sequence[str]]:
        """(community_id, topic) -> keys already shown in the current round."""
        ...

    async def save_rotation(self, state: Mapping[tuple[str, str], Sequence[str]]) -> None: ...

    async def add_usage(self, counts: Mapping[tuple[str, str, date], int]) -> None:
        """Add to the per (community, topic, day) counters."""
        ...

    async def usage(self, community_id: str) -> Mapping[tuple[str, date], int]: ...


class ReportStore(Protocol):
    """Reports on resources, as counts per community, resource key, kind and day only: no
    reporter and no time finer than the day (bot/storage/reports.py)."""

    async def add_report(
        self, community_id: str, key: str, kind: str, day: date, since: date
    ) -> int:
        """Count one report on `day` (one upsert `count = count + 1`); returns this key and
        kind's reports on days from `since` on, this one included."""
        ...

    async def report_counts(self, community_id: str, key: str, since: date) -> Mapping[str, int]:
        """Reports per kind on days from `since` on."""
        ...

    async def report_totals(self, community_id: str, since: date) -> Mapping[tuple[str, str], int]:
        """Reports per (resource key, kind) on days from `since` on, for every resource."""
        ...

    async def claim_report_notice(self, community_id: str, key: str, kind: str) -> bool:
        """Remember the moderators were told about this key and kind; False if they were."""
        ...

    async def unclaim_report_notice(self, community_id: str, key: str, kind: str) -> None:
        """Posting the notice failed: leave it for the next report to try again."""
        ...


# ---- publishing -------------------------------------------------------------------------


class Publisher(Protocol):
    platform: Platform

    async def publish(
        self, channel_id: str, card: Card, idempotency_key: str, *, community_id: str = ""
    ) -> str:
        """`community_id`: whose channel it is. A platform installed in many communities with
        a token each (Slack's OAuth) posts with that community's token; "" where the platform
        has one token for all (Discord, the console, Slack with SLACK_BOT_TOKEN)."""
        ...


@runtime_checkable
class ChannelChecker(Protocol):
    async def check_channel(self, channel_id: str, *, community_id: str = "") -> ChannelInfo:
        """Return the channel if the bot can post there. Raise PermanentPublishError with a
        sentence a moderator can act on ("Haven is not in this channel", "missing the Send
        Messages permission") when it cannot; TransientPublishError when the platform cannot
        be asked right now. Must not post anything."""
        ...


# ---- scheduling -------------------------------------------------------------------------


class CardSource(Protocol):
    """Builds the card a scheduled post shows (SupportService.post_card)."""

    async def post_card(
        self, community_id: str, topic: str | None, message_key: str | None
    ) -> Card: ...

    async def resolve_post(
        self, community_id: str, topic: str | None, message_key: str | None
    ) -> str:
        """The topic slug such a post would show; raises for an unknown topic or message."""
        ...


class CommunityLookup(Protocol):
    async def get(self, community_id: str) -> Community | None: ...


class ScheduleRepository(Protocol):
    """Schedule storage as ScheduleService needs it (bot/storage/schedule_store.py)."""

    async def insert(self, new: NewSchedule, audit: Callable[[int], NewAuditEntry]) -> Schedule: ...

    async def get(self, schedule_id: int) -> Schedule | None: ...

    async def list_for_community(self, community_id: str) -> Sequence[Schedule]: ...

    async def count_for_community(self, community_id: str) -> int: ...

    async def update_state(
        self,
        schedule_id: int,
        community_id: str,
        *,
        paused: bool,
        paused_reason: str | None,
        next_run_at: int | None,
        audit: NewAuditEntry,
    ) -> Schedule | None: ...

    async def update_definition(self, edited: Schedule, audit: NewAuditEntry) -> Schedule | None:
        """Write what `edited` posts, where and when (and its next run), with the audit entry,
        only while the stored row still has `edited.version`: None when it is gone or changed
        (pause and resume state are never written here)."""
        ...

    async def delete(self, schedule_id: int, community_id: str, audit: NewAuditEntry) -> bool: ...

    async def pause_all_for_community(self, community_id: str, reason: str) -> int: ...

    async def history(
        self, community_id: str, schedule_id: int | None, limit: int
    ) -> Sequence[SlotRecord]: ...

    async def has_sent_slot(self, schedule_id: int) -> bool: ...


class SchedulerStore(Protocol):
    """What the post scheduler needs from storage: due slots claimed at most once, outcomes
    written once, and the lease that lets one process at a time run it
    (bot/storage/schedule_store.py)."""

    async def next_due_at(self, platforms: Collection[Platform] | None = None) -> int | None: ...

    async def community_platforms(self) -> set[Platform]: ...

    async def active_ids(self, schedule_ids: Collection[int]) -> set[int]: ...

    async def log_channel_for(self, community_id: str) -> str | None: ...

    async def claim_due(
        self,
        now: int,
        limit: int,
        skip: Collection[int],
        plan: Callable[[Schedule], SlotPlan],
        owner: str,
        lease_until: int,
        platforms: Collection[Platform] | None = None,
    ) -> list[ClaimedSlot]: ...

    async def recover_claimed(
        self,
        now: int,
        owner: str,
        lease_until: int,
        retry: Callable[[Schedule, int, int], tuple[SlotStatus, str] | None],
        keep: Collection[tuple[int, int]] = (),
        platforms: Collection[Platform] | None = None,
    ) -> list[ClaimedSlot]: ...

    async def record_outcomes(self, outcomes: Sequence[SlotOutcome], now: int) -> None: ...

    async def acquire_lease(
        self, name: str, owner: str, now: float, ttl: float, *, renew_only: bool = False
    ) -> LeaseState: ...

    async def acquire_leases(
        self,
        names: Sequence[str],
        owner: str,
        now: float,
        ttl: float,
        *,
        renew_only: bool = False,
        also_free: Sequence[str] = (),
    ) -> LeaseState: ...

    async def release_lease(self, name: str, owner: str) -> None: ...


class IdentifyGate(Protocol):
    """Turns shared by every process on one database: a key (Discord's IDENTIFY bucket) is
    held by one owner at a time for a fixed time after it is taken, then free again
    (bot/storage/identify_gate.py). Nothing releases a turn early: the time is the rule."""

    async def take(self, key: int, owner: str, now: float, hold: float) -> float | None:
        """Take `key` until `now + hold` if it is free at `now` (epoch seconds): None when
        taken, else the moment the current holder's turn ends."""
        ...


class MetaRepository(Protocol):
    """Small process-wide facts by key (the hash of the last synced Discord command tree)."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str) -> None: ...


# A community whose content or settings changed, or None: anything may have changed (a
# feed that lost its connection cannot know what it missed).
ChangeListener = Callable[[str | None], None]


class ChangeFeed(Protocol):
    """Which communities changed, as seen by every process on the same database.

    Storage announces every write to a community's library or settings in the write's own
    transaction, so a writer cannot forget and an announcement is delivered only if the change
    committed. A process subscribes listeners that drop its caches of that community; it
    also hears its own changes again, so a listener must be cheap (a dictionary pop)."""

    async def changed(self, community_id: str) -> None:
        """Announce a change made outside the repositories' write path."""
        ...

    def subscribe(self, listener: ChangeListener) -> None:
        """Call `listener` (on the event loop) for each change another process announces."""
        ...

    async def start(self) -> None:
        """Begin receiving: no change committed after this returns is missed."""
        ...

    async def run(self) -> None:
        """Receive until cancelled; a lost connection is retried and never raises."""
        ...


class Storage(Protocol):
    """The open database, engine unnamed: what the composition root closes at the end."""

    label: str

    async def close(self) -> None: ...


# ---- files ------------------------------------------------------------------------------


class LocalFiles(Protocol):
    """Files on the machine Haven runs on: only the console has them (`pack import file:PATH`)."""

    def read_text(self, path: str, max_bytes: int) -> tuple[str, str]:
        """(file name, text); HavenError with a sentence when it cannot be read as text."""
        ...

    def write_bytes(self, path: str, content: bytes) -> str:
        """Write the file; return where it went. HavenError when it cannot be written."""
        ...


# ---- members ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberRef:
    """One role or person as a moderator typed it, read by the core (bot/core/mentions.py).

    `id` is set when the text was a mention or looked like the platform's id; `name` when it
    may be a name (without '@'). A bare Discord number carries both: a role may be called 2024.
    """

    typed: str
    id: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Found:
    """A role, user group or member the platform knows: its id and the name it shows."""

    id: str
    name: str


class DirectoryUnavailable(Exception):
    """The platform could not be asked right now (outage, timeout, server not in the cache).
    `reason` is for the log only; the core words the answer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MemberDirectory(Protocol):
    """Looks up roles (Discord roles, Slack user groups) and members of one community, for the
    moderator settings. Adapters only look up; the core decides what is refused and says so."""

    platform: Platform
    # False where there is no member list to check against (the console): names are taken as
    # typed, and the core says so.
    verifies: bool
    # Whether `users` can find a person from a plain name. Discord cannot without the
    # privileged members intent, Slack not without listing every user: the core then asks
    # for a mention or an id instead.
    finds_users_by_name: bool

    async def roles(self, community_id: str, refs: Sequence[MemberRef]) -> list[tuple[Found, ...]]:
        """For each ref, in order, every role it matches (none, one, or several when a name is
        shared). Raises DirectoryUnavailable when the platform cannot be asked."""
        ...

    async def users(self, community_id: str, refs: Sequence[MemberRef]) -> list[tuple[Found, ...]]:
        """For each ref, in order, the member it names (none when not in this community)."""
        ...

    async def member_actor(self, community: Community, user_id: str) -> Actor | None:
        """The person as the platform knows them *now* (admin permission, roles or user
        groups, display name), for the dashboard, which checks a moderator again on every
        request; None when they are no longer a member. Cached a few seconds at most.
        Raises DirectoryUnavailable when the platform cannot be asked."""
        ...


# ---- refused moderator attempts ---------------------------------------------------------

# The `item_kind` of a refusal's audit entry: no item's history or undo ever reads it.
REFUSAL_KIND = "refusal"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Someone who may not moderate tried a moderator command: who, which command, when.

    Never what they typed: `command` is a declared group and verb ("message add"), not text
    from the call, so options and message text cannot reach the audit log.
    """

    actor_id: str
    actor_name: str
    command: str
    at: datetime


class RefusalLog(Protocol):
    async def record_refusal(self, community_id: str, refusal: Refusal, keep: int) -> None:
        """Write one audit entry for the refusal, then keep only the community's newest `keep`
        refusal entries, in one transaction: refusals cannot grow the audit log without bound."""


# ---- what Haven reports about itself ----------------------------------------------------


class InteractionOutcome(enum.StrEnum):
    """How answering one command, button or form ended (a label on the interaction counter)."""

    OK = "ok"
    # Haven's own failure: the person got "something went wrong".
    ERROR = "error"
    # Discord 10062: the token was no longer valid (answered too late, or by another process).
    UNKNOWN_INTERACTION = "unknown_interaction"
    # Discord 40060: someone already answered it (a second process on the same token).
    ALREADY_ACKNOWLEDGED = "already_acknowledged"
    # The platform refused the answer for another reason (a plain-text answer was tried).
    REFUSED = "refused"


class Metrics(Protocol):
    """Counts for operators, in the core's terms. Never a user id, a request's text, a
    channel or anything else that could single out a person: `command` is a group and verb
    name ("support", "message add"), and every other argument comes from a small fixed set."""

    def interaction(self, platform: Platform, command: str, outcome: InteractionOutcome) -> None:
        """One command, button or form answered (or not) on `platform`."""
        ...

    def scheduled_post(self, outcome: str) -> None:
        """A scheduled slot finished: sent, missed or failed."""
        ...

    def followup_fallback(self, platform: Platform) -> None:
        """A follow-up went another private way (Slack: chat.postEphemeral)."""
        ...

    def followup_dropped(self, platform: Platform, reason: str) -> None:
        """A follow-up could not be delivered privately, so it was not sent at all."""
        ...

    def cache_reload(self) -> None:
        """A community's library was (re)loaded from storage into memory."""
        ...

    def cache_invalidation(self, scope: str) -> None:
        """The change feed dropped cached state: `scope` is "community" (one community
        changed) or "all" (the feed reconnected and may have missed changes)."""
        ...

    def error(self, kind: str) -> None:
        """An unexpected failure; `kind` is the exception's class name."""
        ...


class NoMetrics:
    """Counts nothing: the console, tools and tests that do not look at counts."""

    def interaction(self, platform: Platform, command: str, outcome: InteractionOutcome) -> None:
        return None

    def scheduled_post(self, outcome: str) -> None:
        return None

    def followup_fallback(self, platform: Platform) -> None:
        return None

    def followup_dropped(self, platform: Platform, reason: str) -> None:
        return None

    def cache_reload(self) -> None:
        return None

    def cache_invalidation(self, scope: str) -> None:
        return None

    def error(self, kind: str) -> None:
        return None


NO_METRICS: Metrics = NoMetrics()


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """Who holds a scheduler lease, and since when it was last renewed (epoch seconds)."""

    owner: str
    heartbeat: float
    expires_at: float


class StatusReader(Protocol):
    """Cheap reads for readiness checks and `haven status`; nothing here names a person."""

    async def ping(self) -> None:
        """One small read; raises when the database cannot be read."""
        ...

    async def scheduler_leases(self) -> Mapping[str, LeaseHolder]: ...

    async def community_counts(self) -> Mapping[str, int]:
        """Communities by status (active, removed)."""
        ...

    async def slot_outcomes_since(self, since: int) -> Mapping[str, int]:
        """Scheduled slots by status, of those last updated at or after `since`."""
        ...


# ---- platform events delivered more than once -------------------------------------------


class EventLedger(Protocol):
    """Platform events taken on, by the platform's event id, shared by every process
    (bot/core/deliveries.py decides what a claim means)."""

    async def claim(self, event_id: str, now: datetime, stale_before: datetime) -> bool:
        """Take the event on: True when no delivery has finished it and none holds a claim
        made at or after `stale_before` (an older claim was abandoned: it is taken over)."""
        ...

    async def finish(self, event_id: str) -> None:
        """The event was handled: every later delivery of it is ignored."""
        ...

    async def is_done(self, event_id: str) -> bool:
        """Whether a delivery of this event finished handling it."""
        ...

    async def release(self, event_id: str) -> None:
        """Handling failed: the next delivery may try again."""
        ...

    async def prune(self, before: datetime) -> int:
        """Forget events claimed before `before`; the number forgotten."""
        ...


# ---- the moderator dashboard's sign-in -------------------------------------------------


@dataclass(frozen=True, slots=True)
class DashboardGrant:
    """Who a sign-in link or session is for: one moderator in one community."""

    community_id: str
    actor_id: str


class LinkState(enum.StrEnum):
    """What became of a sign-in link when it was opened."""

    TAKEN = "taken"  # valid until now, and now used
    USED = "used"  # opened before
    EXPIRED = "expired"
    UNKNOWN = "unknown"  # never issued (or pruned long ago)


class DashboardStore(Protocol):
    """Sign-in links and sessions, each kept only as the hash of its secret. Instants are
    epoch seconds."""

    async def add_link(
        self, token_hash: str, grant: DashboardGrant, expires_at: int, now: int
    ) -> None:
        """Store a new link (and forget links and sessions expired before `now`)."""
        ...

    async def take_link(self, token_hash: str, now: int) -> tuple[LinkState, DashboardGrant | None]:
        """Use the link once: TAKEN with its grant the first time before it expires; the
        reason otherwise. Checked and marked in one transaction (two tabs cannot both win)."""
        ...

    async def release_link(self, token_hash: str) -> None:
        """Make a taken link usable again (the platform could not check the moderator)."""
        ...

    async def add_session(
        self, session_hash: str, grant: DashboardGrant, expires_at: int
    ) -> None: ...

    async def session(self, session_hash: str, now: int) -> DashboardGrant | None:
        """The grant of a session that has not expired."""
        ...

    async def drop_session(self, session_hash: str) -> None: ...


# ---- talking to a moderator (bot/core/contact/) ------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactRow:
    """One request to the moderators as stored: nothing about the sender unless they chose
    "as myself" (`sender_id`, `sender_name`). `token_hash` is SHA-256 of the key the person
    holds; `closed_on` is the day it closed, the only date kept (for the purge)."""

    community_id: str
    number: int
    kind: str
    status: str
    text: str
    token_hash: str | None
    sender_id: str | None
    sender_name: str | None
    inbox_channel_id: str | None
    inbox_message_id: str | None
    closed_on: date | None


@dataclass(frozen=True, slots=True)
class ContactLine:
    """One message of a request's thread: the person's (`from_person`) or a moderator's,
    in order (`seq`); the moderator's display name is kept, the person's nothing."""

    seq: int
    from_person: bool
    text: str
    moderator_name: str = ""


@dataclass(frozen=True, slots=True)
class ContactAuditEntry:
    """A moderator's action on a request: who and what, on which day; never the sender."""

    number: int
    actor_id: str
    actor_name: str
    action: str
    day: date


@dataclass(frozen=True, slots=True)
class ContactSettings:
    inbox_channel_id: str | None = None
    struggling_enabled: bool = False


class ContactStore(Protocol):
    """Requests to the moderators, their threads, blocks and the moderators' audit
    (bot/storage/contact_store.py)."""

    async def settings(self, community_id: str) -> ContactSettings: ...

    async def save_settings(
        self, community_id: str, settings: ContactSettings, audit: ContactAuditEntry
    ) -> None: ...

    async def create(
        self,
        community_id: str,
        kind: str,
        text: str,
        token_hash: str,
        sender_id: str | None,
        sender_name: str | None,
        inbox_channel_id: str,
    ) -> int:
        """Insert a request with the community's next number (1, 2, ...); returns it."""
        ...

    async def set_inbox_message(self, community_id: str, number: int, message_id: str) -> None: ...

    async def by_token(self, token_hash: str) -> ContactRow | None: ...

    async def get(self, community_id: str, number: int) -> ContactRow | None: ...

    async def thread(self, community_id: str, number: int) -> Sequence[ContactLine]: ...

    async def add_line(
        self,
        community_id: str,
        number: int,
        line: ContactLine,
        audit: ContactAuditEntry | None,
    ) -> int:
        """Append to the thread (its seq is the next one); returns how many lines it has."""
        ...

    async def close(
        self, community_id: str, number: int, day: date, audit: ContactAuditEntry | None
    ) -> bool:
        """Close an open request on `day`; False if it was not open."""
        ...

    async def erase(self, community_id: str, number: int, day: date) -> bool:
        """The sender deleted it: its text and thread go now; the number stays, marked
        deleted, until the purge. False if it was already deleted."""
        ...

    async def open_requests(self, community_id: str) -> Sequence[ContactRow]: ...

    async def block(
        self, community_id: str, tag: str, until: date, audit: ContactAuditEntry
    ) -> None: ...

    async def is_blocked(self, community_id: str, tag: str, today: date) -> bool: ...

    async def audit(self, community_id: str, limit: int) -> Sequence[ContactAuditEntry]: ...

    async def purge(self, closed_by: date, today: date) -> int:
        """Delete requests closed (or deleted) on or before `closed_by`, with their threads,
        and blocks that ended before `today`; returns how many requests went."""
        ...


class ContactPlatform(Protocol):
    """What a platform does for the contact line (Discord, Slack, the console): post and
    edit the moderators' inbox message, and tell a person something privately."""

    platform: Platform

    async def check_inbox(self, community_id: str, channel_id: str) -> str:
        """The channel's name if Haven can post there; PermanentPublishError (a sentence a
        moderator can act on) when it cannot."""
        ...

    async def post_inbox(self, community_id: str, channel_id: str, card: Card) -> str:
        """Post the request's card (its actions as buttons); returns the message id."""
        ...

    async def edit_inbox(
        self, community_id: str, channel_id: str, message_id: str, card: Card
    ) -> None: ...

    async def tell_person(self, community_id: str, user_id: str, card: Card) -> bool:
        """A private message to the person (a DM); False when it cannot be delivered
        (their DMs are closed)."""
        ...
