"""SupportService: the answer to `/support` — a supportive message and the right resources.

Rules (all here, so Discord, Slack and the console answer the same):
- messages rotate per community and topic (never per person): a message is not shown again until
  the topic's pool is used up; the state is kept in memory and flushed to the database, so it
  survives restarts;
- the region comes from the command, else the community default; with no region known we never
  show a country's numbers as if universal: only international directories, "call your local
  emergency number", and the region choices; an answer without local services always offers a
  helpline directory (a worldwide resource listed for `crisis`), whatever the topic;
- which resources and in what order (crisis lines, open now, age-limited services after
  all-ages ones) is support_selection's rule, applied here to every answer;
- usage is counted per community, topic and day only; nothing about the person is kept.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.core.cards import Card, CardContact, CardResource, CardTone, Choice
from bot.core.content.audience import audience_label
from bot.core.content.library_index import LibraryIndex
from bot.core.content.localised import content_locale, message_text, resource_words
from bot.core.content.phones import tel_link
from bot.core.content.regions import normalise_region, region_name, search_regions
from bot.core.content.reports import report_choices
from bot.core.content.topics import localise_topic, match_topic, suggest_topics
from bot.core.content.validation import display_domain, make_mentions_inert
from bot.core.errors import NotFound, UnknownChoice
from bot.core.i18n import ENGLISH, N_, Words, translator
from bot.core.locales import SOURCE_LOCALE, language_of, request_locale
from bot.core.lru import LruCache
from bot.core.models import (
    Community,
    ContactKind,
    RequestContext,
    Resource,
    SupportMessage,
    Topic,
)
from bot.core.ports import Clock, CommunityRepository, ContentRepository, Library, StateRepository
from bot.core.support_selection import (
    CRISIS_TOPIC,
    MAX_RESOURCES,
    OpenState,
    person_zone,
    pick_resources,
)

log = logging.getLogger(__name__)

DEFAULT_TOPIC = "general"
MAX_CHOICES = 25
# Communities whose library and settings one process keeps in memory (bench/memory.py: a
# used community's index is about 70 KiB of Python objects with the default pack).
CACHED_COMMUNITIES = 1000
__all__ = ["CRISIS_TOPIC", "MAX_RESOURCES", "SupportService"]

# Used only if a library has no message for a topic at all (a moderator removed them all).
FALLBACK_MESSAGE = SupportMessage(
    key="haven-fallback",
    # It may stand above directories only (no country known), so it promises no listener.
    text=N_(
        "Thank you for reaching out. Whatever you're facing, you deserve support, and the links "
        "below can help you find it."
    ),
    topics=(DEFAULT_TOPIC,),
)

_CONTACT_LABELS = {
    ContactKind.PHONE: N_("Call"),
    ContactKind.TEXT: N_("Text"),
    ContactKind.CHAT: N_("Chat"),
    ContactKind.EMAIL: N_("Email"),
}


def _contact_link(
    kind: ContactKind, display: str, e164: str | None, regions: tuple[str, ...]
) -> str | None:
    if kind is ContactKind.PHONE:
        # The one phone rule: E.164 for full numbers, the country's own dialling for short ones.
        return tel_link(e164, display, regions)
    if kind is ContactKind.EMAIL and "@" in display and " " not in display:
        return f"mailto:{display}"
    if kind is ContactKind.CHAT and display.startswith("https://"):
        return display
    return None


def _card_resource(resource: Resource, *, crisis: bool, words: Words = ENGLISH) -> CardResource:
    """The resource on a card in `words.locale`: its own texts in that language where it has
    them (content/localised.py decides), Haven's words (labels, badges) in it too."""
    texts = resource_words(resource, words.locale)
    contacts = []
    for contact in resource.contacts:
        english = _CONTACT_LABELS[contact.kind]
        label = words.gettext(english)
        # "Text SHOUT to 85258" already says how; do not print "Text: Text SHOUT ...".
        if contact.display.lower().startswith((english.lower(), label.lower())):
            label = ""
        contacts.append(
            CardContact(
                label=label,
                display=make_mentions_inert(contact.display),
                link=_contact_link(contact.kind, contact.display, contact.e164, resource.regions),
            )
        )
    badges: list[str] = []
    if resource.always_open:
        badges.append(words.gettext("24/7"))
    if label := audience_label(resource.audience, resource.age_min, resource.age_max, words):
        badges.append(label)
    if crisis and not resource.crisis_service and not resource.is_global:
        badges.append(words.gettext("not a crisis line"))
    if resource.is_global:
        badges.append(words.gettext("international"))
    return CardResource(
        title=make_mentions_inert(texts.title),
        url=resource.url,
        domain=display_domain(resource.url),
        description=make_mentions_inert(texts.description),
        contacts=tuple(contacts),
        hours=make_mentions_inert(texts.hours),
        badges=tuple(badges),
        last_verified=(
            words.gettext("checked {date}").format(date=resource.last_verified.isoformat())
            if resource.last_verified
            else ""
        ),
        reports=report_choices(resource, words),
    )


def _card_locale(message: SupportMessage, wanted: str) -> str:
    """The card's one language: the message's (content/localised.py), except that Haven's own
    fallback message is in every catalog, so it follows the request."""
    return wanted if message is FALLBACK_MESSAGE else content_locale(message, wanted)


@dataclass(frozen=True, slots=True)
class _Selection:
    message: SupportMessage
    resources: tuple[Resource, ...]
    emergency_number: str | None
    # Open now / opens at, per resource key, and the person's own clock for the labels.
    states: dict[str, OpenState] = field(default_factory=dict)
    person_now: datetime | None = None
    # The card's one language: the message's, as content/localised.py chooses; Haven's own
    # words on the card follow it, so a card never mixes two languages.
    locale: str = SOURCE_LOCALE


class SupportService:
    def __init__(
        self,
        content: ContentRepository,
        communities: CommunityRepository,
        state: StateRepository,
        clock: Clock,
        default_library: Callable[[], Library],
        *,
        rng: random.Random | None = None,
        cache_size: int = CACHED_COMMUNITIES,
    ) -> None:
        self._content = content
        self._communities = communities
        self._state = state
        self._clock = clock
        self._default_library = default_library
        self._random = rng or random.Random()
        # Bounded: a hosted Haven serves thousands of communities, and each library index is
        # tens of KiB; the least recently asked-for are read again when next needed.
        self._indexes: LruCache[str, LibraryIndex] = LruCache(cache_size)
        self._default_index: LibraryIndex | None = None
        self._community_cache: LruCache[str, Community | None] = LruCache(cache_size)
        # Counts invalidations. A load that began before one may have read what it removed,
        # so its result is used once but not kept (another process's change lands while a
        # slow read is in flight; keeping it would hold the old library until the next change).
        self._invalidations = 0
        self._rotation: dict[tuple[str, str], list[str]] = {}
        self._rotation_sets: dict[tuple[str, str], set[str]] = {}
        self._usage: Counter[tuple[str, str, object]] = Counter()
        self._rotation_dirty = False

    # ---- state kept in memory, flushed to the database -------------------------------------

    async def start(self) -> None:
        self._rotation = {
            key: list(keys) for key, keys in (await self._state.load_rotation()).items()
        }

    async def flush(self) -> None:
        """Write rotation and usage aggregates. Called periodically and at shutdown."""
        usage, self._usage = self._usage, Counter()
        if usage:
            await self._state.add_usage(usage)  # type: ignore[arg-type]
        if self._rotation_dirty:
            self._rotation_dirty = False
            await self._state.save_rotation({k: tuple(v) for k, v in self._rotation.items()})

    def invalidate(self, community_id: str) -> None:
        """Forget cached content and settings of a community (after any change to them).
        Cheap when nothing is cached: the change feed calls it for every announced change."""
        self._invalidations += 1
        self._indexes.pop(community_id)
        self._community_cache.pop(community_id)

    def invalidate_all(self) -> None:
        """Forget every community's cached content and settings (the change feed lost track)."""
        self._invalidations += 1
        self._indexes.clear()
        self._community_cache.clear()

    def is_cached(self, community_id: str) -> bool:
        """Whether anything of this community is held in memory."""
        return community_id in self._indexes or community_id in self._community_cache

    async def community(self, community_id: str) -> Community | None:
        found, cached = self._community_cache.lookup(community_id)
        if found:
            return cached
        started = self._invalidations
        community = await self._communities.get(community_id)
        if self._invalidations == started:
            self._community_cache.put(community_id, community)
        return community

    async def library(self, community_id: str) -> Library:
        return (await self.index(community_id)).library

    async def index(self, community_id: str) -> LibraryIndex:
        cached = self._indexes.get(community_id)
        if cached is not None:
            return cached
        started = self._invalidations
        if await self.community(community_id) is None:
            index = self.default_index()
        else:
            index = LibraryIndex.build(await self._content.load_library(community_id))
        if self._invalidations == started:
            self._indexes.put(community_id, index)
        return index

    def default_index(self) -> LibraryIndex:
        if self._default_index is None:
            self._default_index = LibraryIndex.build(self._default_library())
        return self._default_index

    def topics(self, community_id: str) -> tuple[Topic, ...]:
        index = self._indexes.get(community_id) or self.default_index()
        return index.topics or self.default_index().topics

    def topic_choices(
        self, community_id: str, prefix: str = "", locale: str | None = None
    ) -> list[Choice]:
        """Topics for autocomplete, labelled in the person's language: matches of what is
        typed in any shipped language, aliases and typos included ("suic" -> crisis);
        over-long text gives [] at once."""
        words = translator(locale)
        return [
            Choice(label=shown.label, value=topic.slug, description=shown.description)
            for topic in suggest_topics(prefix, self.topics(community_id), MAX_CHOICES)
            for shown in (localise_topic(topic, words),)
        ]

    def region_choices(
        self, prefix: str = "", community_id: str | None = None, locale: str | None = None
    ) -> list[Choice]:
        """Regions for autocomplete, named in the person's language: the community's covered
        regions first (from memory)."""
        index = self._indexes.get(community_id) if community_id else None
        covered = (index or self.default_index()).covered_regions
        return [
            Choice(label=f"{name} ({code})", value=code)
            for code, name in search_regions(prefix, MAX_CHOICES, covered, locale=locale)
        ]

    # ---- resolving what was asked ----------------------------------------------------------

    def resolve_topic(self, index: LibraryIndex, topic: str | None) -> Topic:
        topics = index.topics or self.default_index().topics
        if topic is None or not topic.strip():
            topic = DEFAULT_TOPIC
        # Slug or label, an alias ("suicidal" -> crisis), a unique prefix or a clear typo;
        # otherwise UnknownChoice with the closest topics first.
        return match_topic(topic, topics)

    @staticmethod
    def resolve_region(given: str | None, community: Community | None) -> str | None:
        if given is not None and given.strip():
            return normalise_region(given)
        return community.default_region if community else None

    # ---- the answer ------------------------------------------------------------------------

    async def reply(
        self,
        ctx: RequestContext,
        topic: str | None = None,
        region: str | None = None,
        message_key: str | None = None,
    ) -> Card:
        """The private answer to `/support`. Raises UnknownChoice for an unknown topic/region."""
        index = await self.index(ctx.community_id)
        community = await self.community(ctx.community_id)
        chosen_topic = self.resolve_topic(index, topic)
        chosen_region = self.resolve_region(region, community)
        locale = self.locale_for(ctx, community)
        selection = self._select(
            ctx.community_id, index, chosen_topic, chosen_region, locale, message_key
        )
        if message_key is None:
            # Aggregate only: community, topic, day. No user, no text, no time of day.
            self._usage[(ctx.community_id, chosen_topic.slug, self._clock.now().date())] += 1
        return self._card(
            index,
            chosen_topic,
            chosen_region,
            selection,
            private=True,
            words=translator(selection.locale),
        )

    @staticmethod
    def locale_for(ctx: RequestContext, community: Community | None) -> str:
        """The shipped locale of this one answer: the person's, else the community's, else
        English (locales.request_locale). Used for this call only; never stored."""
        return request_locale(ctx.locale, community.default_locale if community else None)

    async def post_card(
        self, community_id: str, topic: str | None, message_key: str | None
    ) -> Card:
        """A card for a public channel post (scheduled posts): same rules, no "only you" line."""
        index = await self.index(community_id)
        community = await self.community(community_id)
        if topic is None and message_key is not None:
            message = index.message_by_key.get(message_key)
            topic = message.topics[0] if message and message.topics else None
        chosen_topic = self.resolve_topic(index, topic)
        region = community.default_region if community else None
        # A channel post has many readers: the community's language, never one person's.
        locale = request_locale(None, community.default_locale if community else None)
        selection = self._select(community_id, index, chosen_topic, region, locale, message_key)
        return self._card(
            index,
            chosen_topic,
            region,
            selection,
            private=False,
            words=translator(selection.locale),
        )

    async def resolve_post(
        self, community_id: str, topic: str | None, message_key: str | None
    ) -> str:
        """The topic slug a scheduled post would show. Raises UnknownChoice for an unknown
        topic and NotFound for an unknown or disabled message; touches no rotation state."""
        index = await self.index(community_id)
        if message_key is not None:
            message = index.message_by_key.get(message_key)
            if message is None:
                raise NotFound(
                    f"message: there is no enabled message '{message_key}'.",
                    "`/support-admin message list` shows the keys.",
                )
            if topic is None and message.topics:
                topic = message.topics[0]
        return self.resolve_topic(index, topic).slug

    async def fallback_card(
        self,
        topic: str | None,
        region: str | None = None,
        community_id: str | None = None,
        locale: str | None = None,
    ) -> Card:
        """The answer when storage fails: the built-in default library for the region asked
        for, with no storage read and no state touched.

        The region follows the normal answer's rules: the one typed, else the community's
        default if its settings are still in memory. `/support crisis GB` then still puts the
        built-in pack's UK crisis lines and 999 first; a region that cannot be read (or none
        known) gives international directories only, as the normal answer would.
        """
        index = self.default_index()
        try:
            chosen_topic = self.resolve_topic(index, topic)
        except UnknownChoice:
            chosen_topic = self.resolve_topic(index, None)
        community = self._community_cache.get(community_id) if community_id else None
        try:
            chosen_region = self.resolve_region(region, community)
        except UnknownChoice:
            chosen_region = None
        wanted = request_locale(locale, community.default_locale if community else None)
        pool = index.messages_by_topic_language.get(
            (chosen_topic.slug, language_of(wanted))
        ) or index.messages_by_topic.get(chosen_topic.slug, ())
        message = self._random.choice(pool) if pool else FALLBACK_MESSAGE
        selection = self._resources(index, chosen_topic.slug, chosen_region, community)
        chosen_locale = _card_locale(message, wanted)
        return self._card(
            index,
            chosen_topic,
            chosen_region,
            replace(selection, message=message, locale=chosen_locale),
            private=True,
            words=translator(chosen_locale),
        )

    def _select(
        self,
        community_id: str,
        index: LibraryIndex,
        topic: Topic,
        region: str | None,
        locale: str,
        message_key: str | None,
    ) -> _Selection:
        message = self._pick_message(community_id, index, topic.slug, locale, message_key)
        selection = self._resources(
            index, topic.slug, region, self._community_cache.get(community_id)
        )
        return replace(selection, message=message, locale=_card_locale(message, locale))

    def _pick_message(
        self,
        community_id: str,
        index: LibraryIndex,
        topic: str,
        locale: str,
        message_key: str | None,
    ) -> SupportMessage:
        if message_key is not None and message_key in index.message_by_key:
            return index.message_by_key[message_key]
        if topic not in index.messages_by_topic:
            topic = DEFAULT_TOPIC
        # Messages the person can read in their language first (written in it or translated
        # into it); only when the topic has none, every message of the topic. Rotation stays
        # per community and topic: a translation is the same message.
        pool = index.messages_by_topic_language.get(
            (topic, language_of(locale))
        ) or index.messages_by_topic.get(topic)
        if not pool:
            return FALLBACK_MESSAGE
        # Rotation: keys shown this round for (community, topic); a new round starts when the
        # pool is used up. Per community, never per person.
        state = (community_id, topic)
        shown = self._rotation.setdefault(state, [])
        shown_set = self._rotation_sets.get(state)
        if shown_set is None or len(shown_set) != len(shown):
            shown_set = self._rotation_sets[state] = set(shown)
        choice = self._unseen_message(pool, shown_set)
        if choice is None:
            shown.clear()
            shown_set.clear()
            choice = self._random.choice(pool)
        shown.append(choice.key)
        shown_set.add(choice.key)
        self._rotation_dirty = True
        return choice

    def _unseen_message(
        self, pool: tuple[SupportMessage, ...], shown: set[str]
    ) -> SupportMessage | None:
        """A random message not shown this round, or None when every one was shown.

        Random probing first (constant time while most of the pool is unseen), then one scan,
        so a reply stays fast even for a pool of thousands.
        """
        for _ in range(16):
            candidate = self._random.choice(pool)
            if candidate.key not in shown:
                return candidate
        unseen = [m for m in pool if m.key not in shown]
        return self._random.choice(unseen) if unseen else None

    def _resources(
        self, index: LibraryIndex, topic: str, region: str | None, community: Community | None
    ) -> _Selection:
        """The ordered resources and their open-now states (message filled in by the caller)."""
        now = self._clock.now()
        zone = person_zone(region, community)
        resources, states = pick_resources(index, topic, region, now, zone)
        number = index.emergency_numbers.get(region) if region else None
        return _Selection(
            FALLBACK_MESSAGE, resources, number, states, person_now=now.astimezone(zone)
        )

    @staticmethod
    def _card_resource(
        index: LibraryIndex, resource: Resource, crisis: bool, words: Words
    ) -> CardResource:
        memo = (resource.key, crisis, words.locale)
        cached = index.card_resources.get(memo)
        if cached is None:
            cached = index.card_resources[memo] = _card_resource(
                resource, crisis=crisis, words=words
            )
        return cached

    @staticmethod
    def _timed(
        card: CardResource, resource: Resource, selection: _Selection, words: Words
    ) -> CardResource:
        """The cached card of a resource with this moment's "open now" / "opens ..." label
        (a 24/7 line already says 24/7)."""
        state = selection.states.get(resource.key)
        if state is None or resource.always_open or selection.person_now is None:
            return card
        label = state.label(selection.person_now, words)
        return replace(card, badges=(label, *card.badges)) if label else card

    def _card(
        self,
        index: LibraryIndex,
        topic: Topic,
        region: str | None,
        selection: _Selection,
        *,
        private: bool,
        words: Words = ENGLISH,
    ) -> Card:
        shown = localise_topic(topic, words)
        text = message_text(selection.message, selection.locale)
        if selection.message is FALLBACK_MESSAGE:
            text = words.gettext(text)
        body = make_mentions_inert(text)
        if label := audience_label(selection.message.audience, None, None, words):
            # A message written to parents says so, so nobody reads it as written to them.
            body = words.gettext("{audience}: {text}").format(
                audience=label[:1].upper() + label[1:], text=body
            )
        place = region_name(region, words.locale) if region else ""
        if topic.slug == CRISIS_TOPIC:
            danger = (
                words.gettext("If you are in immediate danger, call {number} now.").format(
                    number=selection.emergency_number
                )
                if selection.emergency_number
                else words.gettext(
                    "If you are in immediate danger, call your local emergency number now."
                )
            )
            body = f"{danger}\n\n{body}"
        footer_parts = []
        if private:
            footer_parts.append(words.gettext("Only you can see this."))
        if selection.emergency_number:
            footer_parts.append(
                words.gettext(
                    "Haven is not a crisis service. In an emergency in {country}, call {number}."
                ).format(country=place, number=selection.emergency_number)
            )
        else:
            footer_parts.append(
                words.gettext(
                    "Haven is not a crisis service. In an emergency, call your local "
                    "emergency number."
                )
            )
        region_choices: tuple[Choice, ...] = ()
        if region is None and not private:
            # A channel post cannot ask one reader for their country: point to the private path.
            body += "\n\n" + words.gettext(
                "For services in your country, type /support {topic} with your country (for "
                "example GB or US). Only you will see the answer."
            ).format(topic=topic.slug)
        elif region is None:
            body += "\n\n" + words.gettext("Tell me your country to see services near you.")
            if selection.resources:
                body += " " + words.gettext(
                    "Until then, these international resources can help you find them."
                )
            region_choices = tuple(
                Choice(label=f"{region_name(code, words.locale)} ({code})", value=code)
                for code in index.covered_regions
            )
        topics = index.topics or self.default_index().topics
        crisis = topic.slug == CRISIS_TOPIC
        return Card(
            title=(
                shown.label
                if private
                else words.gettext("Support resources: {topic}").format(topic=shown.label)
            ),
            body=body,
            tone=CardTone.SUPPORT,
            resources=tuple(
                self._timed(self._card_resource(index, r, crisis, words), r, selection, words)
                for r in selection.resources
            ),
            footer=" ".join(footer_parts),
            choices=tuple(
                Choice(other.label, t.slug, other.description)
                for t in topics
                if t != topic
                for other in (localise_topic(t, words),)
            ),
            region_choices=region_choices,
            topic=topic.slug,
            region=region,
            message_key=(
                selection.message.key if selection.message is not FALLBACK_MESSAGE else None
            ),
            locale=words.locale,
        )
