"""Topics as people type them: aliases ("suicidal" -> crisis), typos ("comming-out"), prefixes.

SupportService resolves `/support <topic>` here. The slugs of a library's topics always work; the
aliases below only name the topics of the default pack (config/packs/default.yaml), and apply
when the library has that topic. A word that fits two topics ("gen": general, or gender?) or
nothing at all is refused with the closest topics first.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Sequence

from bot.core.errors import UnknownChoice
from bot.core.i18n import N_, Words, translator
from bot.core.locales import SHIPPED_LOCALES
from bot.core.models import Topic

# The longest shipped slug is 16 characters (trans-and-gender); no topic is named in 64 or more.
MAX_TOPIC_LENGTH = 64
# A typo resolves when it is this close to one topic ("comming-out" is 0.95 from coming-out)
# and clearly closer to it than to any other.
_TYPO_CUTOFF = 0.8
_TYPO_MARGIN = 0.1
_MIN_PREFIX = 3

# Everyday words -> the default pack's topic slugs, in folded form (see fold_topic).
TOPIC_ALIASES: dict[str, str] = {
    # general
    "lgbt": "general",
    "lgbtq": "general",
    "lgbtqia": "general",
    "queer": "general",
    "gay": "general",
    "lesbian": "general",
    "bi": "general",
    "bisexual": "general",
    "help": "general",
    "support": "general",
    "talk": "general",
    "other": "general",
    "anything": "general",
    # coming-out
    "come-out": "coming-out",
    "comingout": "coming-out",
    "closet": "coming-out",
    "in-the-closet": "coming-out",
    # being-outed
    "outed": "being-outed",
    "outing": "being-outed",
    "been-outed": "being-outed",
    "was-outed": "being-outed",
    "got-outed": "being-outed",
    # harassment
    "bullying": "harassment",
    "bullied": "harassment",
    "bully": "harassment",
    "cyberbullying": "harassment",
    "harassed": "harassment",
    "hate": "harassment",
    "hate-crime": "harassment",
    "abuse": "harassment",
    "threats": "harassment",
    "threatened": "harassment",
    "stalking": "harassment",
    "discrimination": "harassment",
    "homophobia": "harassment",
    "transphobia": "harassment",
    # crisis
    "suicide": "crisis",
    "suicidal": "crisis",
    "emergency": "crisis",
    "urgent": "crisis",
    "danger": "crisis",
    "in-danger": "crisis",
    "self-harm": "crisis",
    "selfharm": "crisis",
    "sos": "crisis",
    "help-now": "crisis",
    # mental-health
    "depression": "mental-health",
    "depressed": "mental-health",
    "anxiety": "mental-health",
    "anxious": "mental-health",
    "stress": "mental-health",
    "stressed": "mental-health",
    "panic": "mental-health",
    "mental": "mental-health",
    "lonely": "mental-health",
    "loneliness": "mental-health",
    "wellbeing": "mental-health",
    # trans-and-gender
    "trans": "trans-and-gender",
    "transgender": "trans-and-gender",
    "gender": "trans-and-gender",
    "gender-identity": "trans-and-gender",
    "nonbinary": "trans-and-gender",
    "non-binary": "trans-and-gender",
    "enby": "trans-and-gender",
    "genderqueer": "trans-and-gender",
    "transition": "trans-and-gender",
    "pronouns": "trans-and-gender",
    "dysphoria": "trans-and-gender",
    # family
    "parents": "family",
    "parent": "family",
    "mum": "family",
    "mom": "family",
    "dad": "family",
    "home": "family",
    "siblings": "family",
    "relatives": "family",
}

_SEPARATORS = re.compile(r"[\s_/]+")

# The default pack's topic labels and descriptions (bot/data/default.yaml), marked here so the
# catalogs translate them: a topic's words are looked up by their English text, so a label a
# moderator rewrote simply stays as written. tests/core/test_catalogs.py keeps this in step
# with the pack.
SHIPPED_TOPIC_WORDS = (
    N_("General support"),
    N_("Anything on your mind, or you're not sure which topic fits."),
    N_("Coming out"),
    N_("Deciding who to tell, when, and how."),
    N_("Being outed"),
    N_("Someone shared who you are without asking, or is threatening to."),
    N_("Harassment and hate"),
    N_("Being targeted, threatened or abused, online or offline."),
    N_("Crisis right now"),
    N_("Things feel like too much, or you are thinking about suicide."),
    N_("Mental health"),
    N_("Stress, anxiety, low mood, or finding it hard to cope."),
    N_("Trans and gender"),
    N_("Gender identity, questioning, transition, names and pronouns."),
    N_("Family"),
    N_("Family reactions, home life, and supporting someone you love."),
)


def localise_topic(topic: Topic, words: Words) -> Topic:
    """The topic as a person reads it: label and description in their language where the
    catalog has them (the slug never changes)."""
    label, description = words.gettext(topic.label), words.gettext(topic.description)
    if label == topic.label and description == topic.description:
        return topic
    return Topic(topic.slug, label, description)


# Bounded: communities name their own topics, and a hosted Haven serves thousands of them.
@functools.lru_cache(maxsize=4096)
def _translated_labels(label: str) -> tuple[str, ...]:
    """A label in every shipped language, folded ("Coming out" -> salir-del-armario, ...):
    `/support salir-del-armario` works whatever language the person's client is in."""
    folded = {fold_topic(translator(locale).gettext(label)) for locale in SHIPPED_LOCALES}
    folded.discard(fold_topic(label))
    return tuple(sorted(folded))


def fold_topic(text: str) -> str:
    """A comparison form: no accents, no case, dashes for spaces: 'Coming Out' -> coming-out."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    plain = plain.replace("&", " and ")
    for ch in "+.'’`\"!?":
        plain = plain.replace(ch, "")
    plain = _SEPARATORS.sub("-", plain.strip())
    return re.sub(r"-{2,}", "-", plain).strip("-")


def _names(topic: Topic) -> tuple[str, ...]:
    """Every folded name a topic answers to: slug, label, aliases, the label in every shipped
    language (aliases and translations come after the two own names: see match_topic)."""
    aliases = tuple(alias for alias, slug in TOPIC_ALIASES.items() if slug == topic.slug)
    return (topic.slug, fold_topic(topic.label), *_translated_labels(topic.label), *aliases)


def _prefix_score(wanted: str, names: Sequence[str]) -> float:
    """How much of a name `wanted` starts (0 when none, or when it is too short to tell):
    "trans" covers more of trans-and-gender's "trans" than of the alias "transphobia"."""
    if len(wanted) < _MIN_PREFIX:
        return 0.0
    covered = [
        len(wanted) / len(part)
        for name in names
        for part in (name, *name.split("-"))
        if part.startswith(wanted)
    ]
    return max(covered, default=0.0)


def _ratio(wanted: str, topic: Topic) -> float:
    """How close `wanted` is to a topic's names. Another language's label counts only when it
    is a clear typo of it: a faint likeness to a foreign word must not reorder far guesses."""
    foreign = _translated_labels(topic.label)
    own = max(
        difflib.SequenceMatcher(None, wanted, name).ratio()
        for name in _names(topic)
        if name not in foreign
    )
    close = max(
        (difflib.SequenceMatcher(None, wanted, name).ratio() for name in foreign), default=0.0
    )
    return max(own, close if close >= _TYPO_CUTOFF else 0.0)


def _too_long(text: str) -> bool:
    return len(text) > MAX_TOPIC_LENGTH and len(text.strip()) > MAX_TOPIC_LENGTH


def match_topic(text: str, topics: Sequence[Topic]) -> Topic:
    """The topic `text` names: its slug or label, an alias, a unique prefix ("harass"), or a
    close typo of exactly one topic ("comming-out"). Otherwise UnknownChoice with the closest
    topics first (ties alphabetical); over-long text is refused before any matching."""
    given = text.strip()
    if _too_long(given):
        raise UnknownChoice.too_long(
            "Topic", given, MAX_TOPIC_LENGTH, "Topic names are short, like coming-out or crisis."
        )
    wanted = fold_topic(given)
    for topic in topics:
        if wanted in (topic.slug, fold_topic(topic.label), *_translated_labels(topic.label)):
            return topic
    by_slug = {topic.slug: topic for topic in topics}
    alias = TOPIC_ALIASES.get(wanted)
    if alias in by_slug:
        return by_slug[alias]
    # A prefix of a slug or label word ("harass", "tran"), else of an alias ("suic"), names a
    # topic when it starts only one.
    prefixes: dict[str, float] = {}
    for own_names in (True, False):
        for topic in topics:
            names = _names(topic)
            score = _prefix_score(wanted, names[:2] if own_names else names[2:])
            if score:
                prefixes[topic.slug] = max(prefixes.get(topic.slug, 0.0), score)
        if prefixes:
            break
    starting = [topic for topic in topics if topic.slug in prefixes]
    if len(starting) == 1:
        return starting[0]
    scores = {
        topic.slug: max(
            _ratio(wanted, topic),
            0.9 + 0.1 * prefixes[topic.slug] if topic.slug in prefixes else 0.0,
        )
        for topic in topics
    }
    ranked = sorted(by_slug, key=lambda slug: (-scores[slug], slug))
    if ranked and not starting:
        best = scores[ranked[0]]
        second = scores[ranked[1]] if len(ranked) > 1 else 0.0
        if best >= _TYPO_CUTOFF and best - second >= _TYPO_MARGIN:
            return by_slug[ranked[0]]
    close = bool(ranked) and scores[ranked[0]] >= 0.5
    raise UnknownChoice(
        "Topic",
        given,
        ranked,
        "Or type /support on its own for general support.",
        labels={topic.slug: topic.label for topic in topics},
        suggest=close,
    )


def suggest_topics(prefix: str, topics: Sequence[Topic], limit: int) -> list[Topic]:
    """Topics for autocomplete while someone types: all of them (in the library's order) for
    nothing typed; else those whose slug, label or an alias starts with or contains it, then
    close typos. Over-long text gives [] at once."""
    if _too_long(prefix) or limit <= 0:
        return []
    wanted = fold_topic(prefix)
    if not wanted:
        return list(topics[:limit])
    ranked: list[tuple[float, int, Topic]] = []
    for position, topic in enumerate(topics):
        names = _names(topic)
        label = topic.label.casefold()
        if (
            wanted in names[:2]
            or TOPIC_ALIASES.get(wanted) == topic.slug
            or wanted in _translated_labels(topic.label)
        ):
            score = 0.0
        elif topic.slug.startswith(wanted) or fold_topic(topic.label).startswith(wanted):
            score = 1.0
        elif wanted in topic.slug or prefix.strip().casefold() in label:
            score = 2.0
        elif any(name.startswith(wanted) for name in names[2:]):
            score = 2.5
        else:
            ratio = _ratio(wanted, topic) if len(wanted) >= _MIN_PREFIX else 0.0
            if ratio < 0.6:
                continue
            score = 3.0 + (1.0 - ratio)
        ranked.append((score, position, topic))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [topic for _, _, topic in ranked[:limit]]


def is_exact_topic(text: str, slug: str, topics: Sequence[Topic]) -> bool:
    """Whether `text` names the topic `slug` by its slug, label or an alias: not by a guess
    (a prefix or a typo), which a list filter must not silently take."""
    wanted = fold_topic(text)
    return any(topic.slug == slug and wanted in _names(topic) for topic in topics)
