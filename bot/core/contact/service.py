"""ContactService: a person's request to the moderators, their replies, closing, deleting,
blocking and the retention purge. Every rule of the contact line is applied here, so Discord,
Slack and the console behave the same; adapters only deliver the cards.

Who sent an anonymous request is known only to this process's memory (SenderLinks), and
only from the moment the person sends it or presents their key until a restart. Nothing
stored or logged can say it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from bot.core.cards import Card
from bot.core.contact import cards
from bot.core.contact.keys import (
    Cooldown,
    SenderLinks,
    block_tag,
    new_token,
    seal,
    token_hash,
    unseal,
)
from bot.core.contact.rules import (
    AUDIT_SHOWN,
    DEFAULT_BLOCK_DAYS,
    DEFAULT_COOLDOWN,
    DEFAULT_RETENTION_DAYS,
    TEXT_MAX,
    THREAD_MAX,
    RequestKind,
    RequestStatus,
)
from bot.core.content.validation import check_text, make_mentions_inert
from bot.core.errors import HavenError, NotFound, ValidationFailed
from bot.core.failures import log_failure
from bot.core.i18n import ENGLISH, Words, translator
from bot.core.locales import SOURCE_LOCALE, request_locale
from bot.core.mentions import parse_channel
from bot.core.models import DIRECT_MESSAGE_COMMUNITY, Community, Platform, RequestContext
from bot.core.permissions import moderator_community
from bot.core.ports import (
    Clock,
    CommunityLookup,
    ContactAuditEntry,
    ContactLine,
    ContactPlatform,
    ContactRow,
    ContactSettings,
    ContactStore,
)
from bot.core.scheduling.publishing import PublishError

log = logging.getLogger(__name__)

# Settings are read on every /support (for the "Talk to a moderator" button): kept this long
# in memory, so another process's change shows within a minute.
SETTINGS_TTL = timedelta(seconds=60)
SETTINGS_CACHED = 1000

NO_KEY = (
    "Blocking needs HAVEN_CONTACT_KEY (or, with SQLite, the key file Haven makes beside the "
    "database), and this Haven has neither."
)


# A person's errors are built in their words (each raise translates its own sentence).
def _no_inbox(words: Words) -> HavenError:
    return HavenError(
        words.gettext("This community has not set up a moderator inbox yet."),
        words.gettext(
            "Moderators can turn it on with /support-admin settings contact-inbox "
            "channel:#mod-inbox. For support now, type /support."
        ),
    )


def _no_check_ins(words: Words) -> HavenError:
    return HavenError(
        words.gettext("This community has not turned on check-in alerts."),
        words.gettext(
            "You can still write to the moderators with /support-contact, and "
            "/support crisis shows crisis lines now."
        ),
    )


def _too_soon(wait: timedelta, words: Words) -> HavenError:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return HavenError(
        # Two sentences, not ngettext: 1 and 2+ fall in the same plural forms in every
        # shipped language, and the catalog test reads singular messages.
        words.gettext("You sent a request a moment ago. You can send another in about a minute.")
        if minutes == 1
        else words.gettext(
            "You sent a request a moment ago. You can send another in about {n} minutes."
        ).format(n=minutes),
        words.gettext("To add to it, use Answer on your request. For support now, type /support."),
    )


@dataclass(frozen=True, slots=True)
class ContactAnswer:
    """`shown`: the answer on screen now (private). `keep`: the card only the person should
    get (their DM), holding their reply key; None when there is none."""

    shown: Card
    keep: Card | None = None

    def as_card(self) -> Card:
        """One card, for a platform that shows one answer (the text grammar)."""
        if self.keep is None:
            return self.shown
        if self.shown.resources:
            return replace(self.keep, resources=self.shown.resources, tone=self.shown.tone)
        return self.keep


class ContactService:
    def __init__(
        self,
        store: ContactStore,
        communities: CommunityLookup,
        platforms: Mapping[Platform, ContactPlatform],
        clock: Clock,
        crisis: Callable[[RequestContext], Awaitable[Card]],
        *,
        block_key: bytes | None,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        block_days: int = DEFAULT_BLOCK_DAYS,
        cooldown: timedelta = DEFAULT_COOLDOWN,
        unavailable: str = "",
    ) -> None:
        """`platforms` is read on every call (adapters register as they start). `crisis`:
        SupportService's crisis answer. `unavailable`: why the line is off (a PostgreSQL
        Haven without HAVEN_CONTACT_KEY), "" when it is on."""
        self._store = store
        self._communities = communities
        self._platforms = platforms
        self._clock = clock
        self._crisis = crisis
        self._key = block_key
        self._retention = retention_days
        self._block_days = block_days
        self._links = SenderLinks()
        self._cooldown = Cooldown(clock, cooldown)
        self._unavailable = unavailable
        self._settings: dict[str, tuple[datetime, ContactSettings]] = {}

    @property
    def retention_days(self) -> int:
        return self._retention

    # ---- settings --------------------------------------------------------------------------

    async def settings(self, community_id: str) -> ContactSettings:
        now = self._clock.now()
        cached = self._settings.get(community_id)
        if cached is not None and now - cached[0] < SETTINGS_TTL:
            return cached[1]
        found = await self._store.settings(community_id)
        if len(self._settings) >= SETTINGS_CACHED:
            self._settings.clear()
        self._settings[community_id] = (now, found)
        return found

    async def offers(self, community_id: str) -> bool:
        """Whether a /support answer here offers "Talk to a moderator"."""
        if self._unavailable or community_id == DIRECT_MESSAGE_COMMUNITY:
            return False
        return (await self.settings(community_id)).inbox_channel_id is not None

    async def struggling_offered(self, community_id: str) -> bool:
        settings = await self.settings(community_id)
        return settings.inbox_channel_id is not None and settings.struggling_enabled

    async def set_inbox(self, ctx: RequestContext, value: str) -> Card:
        community = await moderator_community(self._communities, ctx)
        current = await self._store.settings(community.id)
        if value.strip().lower() in ("none", "-", "unset"):
            channel, label = None, "none"
        else:
            channel, label = parse_channel(value, ctx.platform)
            platform = self._platform(ctx.platform, ENGLISH)
            try:
                label = await platform.check_inbox(community.id, channel) or label
            except PublishError as error:
                raise HavenError(
                    f"Haven cannot use {label} as the moderator inbox: {error}",
                    "The inbox must be a channel only moderators can read, where Haven can "
                    "post (View Channel, Send Messages, Embed Links). Nothing was changed.",
                ) from None
        new = replace(current, inbox_channel_id=channel)
        await self._store.save_settings(community.id, new, self._entry(ctx, 0, "inbox.set"))
        self._settings.pop(community.id, None)
        return cards.done(
            "Moderator inbox saved",
            f"Requests to the moderators go to {label}."
            if channel
            else "The contact line is off: /support-contact tells people it is not set up.",
            "Make it a channel only moderators can read." if channel else "",
        )

    async def set_struggling(self, ctx: RequestContext, value: str) -> Card:
        community = await moderator_community(self._communities, ctx)
        current = await self._store.settings(community.id)
        enabled = value.strip().lower() == "yes"
        await self._store.save_settings(
            community.id,
            replace(current, struggling_enabled=enabled),
            self._entry(ctx, 0, "struggling.on" if enabled else "struggling.off"),
        )
        self._settings.pop(community.id, None)
        return cards.done(
            "Check-in alerts " + ("on" if enabled else "off"),
            'People can send a one-click "I\'m struggling right now" alert to the inbox; '
            "they are shown crisis resources at once."
            if enabled
            else 'The "I\'m struggling right now" alert is no longer offered.',
        )

    # ---- the person ------------------------------------------------------------------------

    async def words_for(self, ctx: RequestContext) -> Words:
        """Haven's words for this person's request: their locale, else the community's
        default, else English (locales.request_locale, the rule /support uses). For this
        call only: nothing stores or logs it."""
        return translator(request_locale(ctx.locale, await self._default_locale(ctx.community_id)))

    async def _community_words(self, community_id: str) -> Words:
        """For a message sent later, with no request to take a locale from (a moderator's
        reply DM): the community's default language."""
        return translator(request_locale(None, await self._default_locale(community_id)))

    async def _default_locale(self, community_id: str) -> str | None:
        if community_id == DIRECT_MESSAGE_COMMUNITY:
            return None
        try:
            community = await self._communities.get(community_id)
        except Exception as error:
            # The words matter less than the answer: English rather than no answer.
            log_failure(log, "Reading a community's language for the contact line", error)
            return None
        return community.default_locale if community else None

    async def choices(self, ctx: RequestContext) -> Card:
        """How this person can reach the moderators here (the first step of the form)."""
        await self.precheck(ctx, RequestKind.ANONYMOUS)
        words = await self.words_for(ctx)
        return cards.choose_card(await self.struggling_offered(ctx.community_id), words)

    async def precheck(self, ctx: RequestContext, kind: RequestKind) -> None:
        """Refuse, before a form is shown, what `start` would refuse for reasons the person
        cannot fix by typing (no inbox, check-ins off, a DM, too soon): nobody writes a long
        text only to be told so afterwards."""
        words = await self.words_for(ctx)
        self._check_available(ctx, words)
        settings = await self.settings(ctx.community_id)
        if settings.inbox_channel_id is None:
            raise _no_inbox(words)
        if kind is RequestKind.CHECK_IN and not settings.struggling_enabled:
            raise _no_check_ins(words)
        await self._refuse_blocked(ctx, words)
        wait = self._cooldown.peek(ctx.community_id, ctx.actor.id)
        if wait is not None:
            raise _too_soon(wait, words)

    async def start(self, ctx: RequestContext, kind: RequestKind, text: str) -> ContactAnswer:
        """A new request to the moderators' inbox; the person's key comes back in `keep`."""
        words = await self.words_for(ctx)
        self._check_available(ctx, words)
        settings = await self.settings(ctx.community_id)
        if settings.inbox_channel_id is None:
            raise _no_inbox(words)
        crisis: Card | None = None
        if kind is RequestKind.CHECK_IN:
            if not settings.struggling_enabled:
                raise _no_check_ins(words)
            # Shown whatever happens next (blocked, too soon, inbox down): help comes first.
            crisis = await self._crisis(ctx)
        try:
            text = self._text(text, words, required=kind is not RequestKind.CHECK_IN)
            await self._refuse_blocked(ctx, words)
            number, created = await self._create(ctx, kind, text, settings.inbox_channel_id, words)
        except HavenError as error:
            if crisis is None:
                raise
            return ContactAnswer(replace(crisis, footer=f"{error.message} {error.hint}".strip()))
        if crisis is not None:
            return ContactAnswer(crisis, created)
        return ContactAnswer(
            cards.done(
                words.gettext("Request #{n} sent").format(n=number),
                words.gettext("Only you can see this.")
                + " "
                + (
                    words.gettext("The moderators will see your name.")
                    if kind is RequestKind.MYSELF
                    else words.gettext("The moderators will not know who wrote it.")
                ),
                locale=words.locale,
            ),
            created,
        )

    async def _create(
        self, ctx: RequestContext, kind: RequestKind, text: str, inbox: str, words: Words
    ) -> tuple[int, Card]:
        platform = self._platform(ctx.platform, words)
        wait = self._cooldown.take(ctx.community_id, ctx.actor.id)
        if wait is not None:
            raise _too_soon(wait, words)
        token = new_token()
        named = kind is RequestKind.MYSELF
        number = await self._store.create(
            ctx.community_id,
            kind.value,
            text,
            token_hash(token),
            ctx.actor.id if named else None,
            (ctx.actor.display_name or None) if named else None,
            inbox,
        )
        row = await self._store.get(ctx.community_id, number)
        assert row is not None
        try:
            message_id = await platform.post_inbox(
                ctx.community_id, inbox, cards.inbox_card(row, ())
            )
        except Exception as error:
            # Nobody saw it: nothing of it is kept, and the person may try again at once.
            # The class only: a platform's error text could quote the request.
            log.warning("Could not post a request to a moderator inbox (%s)", type(error).__name__)
            await self._store.erase(ctx.community_id, number, self._today())
            self._cooldown.give_back(ctx.community_id, ctx.actor.id)
            raise HavenError(
                words.gettext(
                    "Haven could not reach the moderators' inbox just now, so nothing was sent "
                    "and nothing was kept."
                ),
                words.gettext(
                    "Please try again in a little while. For support now, type /support."
                ),
            ) from None
        await self._store.set_inbox_message(
            ctx.community_id, number, self._seal(ctx.community_id, number, message_id)
        )
        self._links.remember(ctx.community_id, number, ctx.actor.id)
        return number, cards.keep_card(number, token, kind, words)

    async def open(self, ctx: RequestContext, token: str) -> Card:
        words = await self.words_for(ctx)
        row = await self._by_token(ctx, token, words)
        thread = await self._store.thread(row.community_id, row.number)
        return cards.person_view(row, thread, token, words)

    async def answer(self, ctx: RequestContext, token: str, text: str) -> Card:
        words = await self.words_for(ctx)
        row = await self._by_token(ctx, token, words)
        self._require_open(row, words)
        text = self._text(text, words, required=True)
        await self._check_room(
            row,
            words,
            words.gettext("Close it and send a new one with /support-contact."),
        )
        await self._store.add_line(row.community_id, row.number, ContactLine(0, True, text), None)
        await self._refresh_inbox(row.community_id, row.number)
        view = await self.open(ctx, token)
        return replace(view, footer=words.gettext("Sent to the moderators."))

    async def close_by_person(self, ctx: RequestContext, token: str) -> Card:
        words = await self.words_for(ctx)
        row = await self._by_token(ctx, token, words)
        self._require_open(row, words)
        await self._store.close(row.community_id, row.number, self._today(), None)
        self._links.forget(row.community_id, row.number)
        await self._refresh_inbox(row.community_id, row.number)
        return cards.done(
            words.gettext("Request #{n} closed").format(n=row.number),
            words.gettext("You can still read it until it is deleted tomorrow, or delete it now.")
            if self._retention == 1
            else words.gettext(
                "You can still read it until it is deleted, {days} days from today, "
                "or delete it now."
            ).format(days=self._retention),
            locale=words.locale,
        )

    async def confirm_delete(self, ctx: RequestContext, token: str) -> Card:
        """Deleting cannot be undone: the person is asked once more (a misclick must not
        cost them the thread)."""
        words = await self.words_for(ctx)
        row = await self._by_token(ctx, token, words)
        return cards.confirm_delete(row.number, token, words)

    async def delete_by_person(self, ctx: RequestContext, token: str) -> Card:
        words = await self.words_for(ctx)
        row = await self._by_token(ctx, token, words)
        if row.status == RequestStatus.DELETED:
            raise NotFound(words.gettext("Request #{n} is already deleted.").format(n=row.number))
        await self._store.erase(row.community_id, row.number, self._today())
        self._links.forget(row.community_id, row.number)
        await self._refresh_inbox(row.community_id, row.number)
        return cards.done(
            words.gettext("Request #{n} deleted").format(n=row.number),
            words.gettext(
                "Its text and every reply are gone from Haven, and the moderators' inbox now "
                "says it was deleted by the sender."
            ),
            locale=words.locale,
        )

    # ---- moderators ------------------------------------------------------------------------

    async def reply(self, ctx: RequestContext, number: int, text: str) -> Card:
        community, row = await self._moderated(ctx, number)
        self._require_open(row, ENGLISH)
        text = self._text(text, ENGLISH, required=True)
        await self._check_room(
            row, ENGLISH, "Close it; the sender can write again with /support-contact."
        )
        name = ctx.actor.display_name or "moderator"
        await self._store.add_line(
            community.id,
            number,
            ContactLine(0, False, text, name),
            self._entry(ctx, number, "reply"),
        )
        await self._refresh_inbox(community.id, number)
        # The person's DM in the community's language: no request of theirs is at hand.
        person_words = await self._community_words(community.id)
        told = await self._tell(community.id, row, cards.reply_notice(number, text, person_words))
        return cards.done(
            f"Reply sent to request #{number}",
            "They were told in a private message."
            if told
            else "Haven cannot tell them right now (it restarted since, or their DMs are "
            "closed): they will see your reply when they next open their request.",
        )

    async def close(self, ctx: RequestContext, number: int) -> Card:
        community, row = await self._moderated(ctx, number)
        self._require_open(row, ENGLISH)
        await self._store.close(
            community.id, number, self._today(), self._entry(ctx, number, "close")
        )
        await self._refresh_inbox(community.id, number)
        person_words = await self._community_words(community.id)
        await self._tell(community.id, row, cards.closed_notice(number, person_words))
        self._links.forget(community.id, number)
        return cards.done(
            f"Request #{number} closed",
            f"Its text and replies are deleted in {self._retention} days.",
        )

    async def block(self, ctx: RequestContext, number: int) -> Card:
        community, row = await self._moderated(ctx, number)
        if not RequestKind(row.kind).anonymous:
            raise HavenError(
                f"Request #{number} was sent as themselves: you know who it is.",
                "Use the server's own moderation tools for a named member.",
            )
        if self._key is None:
            raise HavenError(NO_KEY, "Ask the operator to set HAVEN_CONTACT_KEY.")
        user = self._links.get(community.id, number)
        if user is None:
            raise HavenError(
                f"Nobody can tell who sent request #{number} any more: Haven restarted (or "
                "they closed or deleted it) since, and it keeps no record of senders.",
                "It cannot be blocked. If they write again, you can block that request.",
            )
        until = self._today() + timedelta(days=self._block_days)
        tag = block_tag(self._key, community.id, user)
        await self._store.block(community.id, tag, until, self._entry(ctx, number, "block"))
        return cards.done(
            f"The sender of request #{number} is blocked until {until.isoformat()}",
            "They cannot send new requests here until then. Nobody, you included, learns "
            "who they are.",
        )

    async def list_open(self, ctx: RequestContext) -> Card:
        community = await moderator_community(self._communities, ctx)
        rows = await self._store.open_requests(community.id)
        lines = tuple(
            make_mentions_inert(f"#{r.number} ({r.kind}): {_preview(r.text)}") for r in rows
        )
        return Card(
            title="Open requests to the moderators",
            lines=lines or ("None open.",),
            footer="/support-admin contact reply number:N to answer one.",
        )

    async def audit(self, ctx: RequestContext) -> Card:
        community = await moderator_community(self._communities, ctx)
        entries = await self._store.audit(community.id, AUDIT_SHOWN)
        lines = tuple(
            make_mentions_inert(
                f"{e.day.isoformat()} {e.actor_name or e.actor_id} ({e.actor_id}): {e.action}"
                + (f" #{e.number}" if e.number else "")
            )
            for e in entries
        )
        return Card(title="Moderator actions on requests", lines=lines or ("None yet.",))

    # ---- retention -------------------------------------------------------------------------

    async def purge_expired(self) -> int:
        """Delete what closed more than the retention period ago, and ended blocks."""
        today = self._today()
        return await self._store.purge(today - timedelta(days=self._retention), today)

    # ---- helpers ---------------------------------------------------------------------------

    def _seal(self, community_id: str, number: int, message_id: str) -> str:
        if self._key is None:
            return message_id  # only a Haven whose contact line is off has no key
        return "sealed:" + seal(self._key, f"inbox\x00{community_id}\x00{number}", message_id)

    def _unseal(self, community_id: str, number: int, stored: str) -> str:
        if self._key is None or not stored.startswith("sealed:"):
            return stored
        return unseal(self._key, f"inbox\x00{community_id}\x00{number}", stored[7:])

    def _today(self) -> date:
        return self._clock.now().date()

    def _check_available(self, ctx: RequestContext, words: Words) -> None:
        if self._unavailable:
            # The reason is the operator's configuration (English, like every operator text).
            raise HavenError(
                words.gettext("Talking to a moderator is not available here."), self._unavailable
            )
        if ctx.community_id == DIRECT_MESSAGE_COMMUNITY:
            raise HavenError(
                words.gettext("Write to the moderators from inside their server."),
                words.gettext(
                    "Run /support-contact in any channel of the server: only you see it."
                ),
            )

    def _platform(self, platform: Platform, words: Words) -> ContactPlatform:
        found = self._platforms.get(platform)
        if found is None:
            raise HavenError(
                words.gettext("Haven cannot reach the moderators' inbox from here right now."),
                words.gettext("Please try again in a moment."),
            )
        return found

    @staticmethod
    def _text(text: str, words: Words, *, required: bool) -> str:
        """The text, stripped, or ValidationFailed in the writer's words. Problems start
        with `text:` (the field), which the Slack form puts under its text box."""
        problems = check_text(
            "text", text, max_length=TEXT_MAX, required=required, allow_newlines=True
        )
        if not problems:
            return text.strip()
        hint = words.gettext("Write up to {limit} characters.").format(limit=TEXT_MAX)
        if words.locale == SOURCE_LOCALE:
            # English keeps check_text's own detail (which characters, the emoji exception).
            raise ValidationFailed(problems, hint)
        length = len(text.strip())
        if required and length == 0:
            problem = words.gettext("text: must not be empty.")
        elif length > TEXT_MAX:
            problem = words.gettext(
                "text: is {length} characters; the limit is {limit} (shorten it by {over})."
            ).format(length=length, limit=TEXT_MAX, over=length - TEXT_MAX)
        else:
            problem = words.gettext(
                "text: contains control or invisible characters; retype it without them."
            )
        raise ValidationFailed([problem], hint)

    async def _refuse_blocked(self, ctx: RequestContext, words: Words) -> None:
        if self._key is None:
            return
        tag = block_tag(self._key, ctx.community_id, ctx.actor.id)
        if await self._store.is_blocked(ctx.community_id, tag, self._today()):
            raise HavenError(
                words.gettext(
                    "The moderators of this community have paused requests from you for now."
                ),
                words.gettext("For support now, type /support."),
            )

    async def _by_token(self, ctx: RequestContext, token: str, words: Words) -> ContactRow:
        row = await self._store.by_token(token_hash(token)) if token.strip() else None
        if row is None or row.status == RequestStatus.DELETED:
            raise NotFound(
                words.gettext(
                    "That request is no longer here: it was deleted, or removed after it closed."
                ),
                words.gettext("Send a new one with /support-contact."),
            )
        if row.status == RequestStatus.OPEN:
            # The person showed their key: while this process lives, Haven can tell them
            # about replies again (also after a restart) and a block can find them.
            self._links.remember(row.community_id, row.number, ctx.actor.id)
        return row

    async def _check_room(self, row: ContactRow, words: Words, hint: str) -> None:
        count = len(await self._store.thread(row.community_id, row.number))
        if count >= THREAD_MAX:
            raise HavenError(
                words.gettext(
                    "Request #{n} has {most} messages, the most one request holds."
                ).format(n=row.number, most=THREAD_MAX),
                hint,
            )

    @staticmethod
    def _require_open(row: ContactRow, words: Words) -> None:
        if row.status != RequestStatus.OPEN:
            # Only a deleted request is not open or closed, and it never gets this far.
            raise HavenError(
                words.gettext("Request #{n} is closed.").format(n=row.number),
                words.gettext("A new request can be sent with /support-contact."),
            )

    async def _moderated(self, ctx: RequestContext, number: int) -> tuple[Community, ContactRow]:
        community = await moderator_community(self._communities, ctx)
        row = await self._store.get(community.id, number)
        if row is None or row.status == RequestStatus.DELETED:
            raise NotFound(
                f"There is no request #{number} here (it may have been deleted by its sender "
                "or removed after it closed).",
                "/support-admin contact list shows the open ones.",
            )
        return community, row

    def _entry(self, ctx: RequestContext, number: int, action: str) -> ContactAuditEntry:
        return ContactAuditEntry(
            number, ctx.actor.id, ctx.actor.display_name, action, self._today()
        )

    async def _refresh_inbox(self, community_id: str, number: int) -> None:
        """The inbox message redrawn from what is stored (best effort: the store is the
        truth, and the next change redraws it again)."""
        row = await self._store.get(community_id, number)
        if row is None or not row.inbox_channel_id or not row.inbox_message_id:
            return
        platform = self._platforms.get(_platform_of(community_id))
        if platform is None:
            return
        thread = await self._store.thread(community_id, number)
        try:
            await platform.edit_inbox(
                community_id,
                row.inbox_channel_id,
                self._unseal(community_id, number, row.inbox_message_id),
                cards.inbox_card(row, thread),
            )
        except Exception as error:
            log_failure(log, "Updating a request's inbox message", error)

    async def _tell(self, community_id: str, row: ContactRow, card: Card) -> bool:
        user = self._links.get(community_id, row.number) or row.sender_id
        platform = self._platforms.get(_platform_of(community_id))
        if user is None or platform is None:
            return False
        try:
            return await platform.tell_person(community_id, user, card)
        except Exception as error:
            log_failure(log, "Telling a person about their request", error)
            return False


def _platform_of(community_id: str) -> Platform:
    return Platform(community_id.split(":", 1)[0])


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return (flat[:60] + "…") if len(flat) > 60 else (flat or "(check-in)")
