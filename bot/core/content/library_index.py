"""LibraryIndex: a community's library arranged for answering `/support` in constant time.

Built once when a library is loaded (and again after any change), so a reply looks things up by
(region, topic) instead of scanning thousands of resources on every request.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from bot.core.cards import CardResource
from bot.core.content.localised import message_locales
from bot.core.locales import language_of
from bot.core.models import Resource, SupportMessage, Topic
from bot.core.ports import Library


@dataclass(frozen=True, slots=True)
class LibraryIndex:
    library: Library
    topics: tuple[Topic, ...]
    messages_by_topic: dict[str, tuple[SupportMessage, ...]]
    # The same pools split by language ("en"): a message is in the pool of the language it was
    # written in and of each of its current translations, so a reply never filters a pool.
    messages_by_topic_language: dict[tuple[str, str], tuple[SupportMessage, ...]]
    message_by_key: dict[str, SupportMessage]
    # Visible services of one country for one topic, by the pack author's rank.
    local: dict[tuple[str, str], tuple[Resource, ...]]
    # Visible crisis services of one country: all-ages 24/7 lines first, then by rank.
    crisis_lines: dict[str, tuple[Resource, ...]]
    directories_by_topic: dict[str, tuple[Resource, ...]]
    directories: tuple[Resource, ...]
    emergency_numbers: dict[str, str]
    covered_regions: tuple[str, ...]
    # Rendered resources, memoised per (resource key, crisis answer, the card's locale): content
    # is immutable for the life of an index, so each is validated and made inert once.
    card_resources: dict[tuple[str, bool, str], CardResource] = field(default_factory=dict)

    @classmethod
    def build(cls, library: Library) -> LibraryIndex:
        messages: defaultdict[str, list[SupportMessage]] = defaultdict(list)
        by_language: defaultdict[tuple[str, str], list[SupportMessage]] = defaultdict(list)
        for message in library.messages:
            if message.enabled:
                languages = dict.fromkeys(language_of(tag) for tag in message_locales(message))
                for topic in message.topics:
                    messages[topic].append(message)
                    for language in languages:
                        by_language[(topic, language)].append(message)
        local: defaultdict[tuple[str, str], list[Resource]] = defaultdict(list)
        crisis: defaultdict[str, list[Resource]] = defaultdict(list)
        directories_by_topic: defaultdict[str, list[Resource]] = defaultdict(list)
        directories: list[Resource] = []
        for resource in library.resources:
            if not resource.visible:
                continue
            if resource.is_global:
                directories.append(resource)
                for topic in resource.topics:
                    directories_by_topic[topic].append(resource)
                continue
            for region in resource.regions:
                if resource.crisis_service:
                    crisis[region].append(resource)
                for topic in resource.topics:
                    local[(region, topic)].append(resource)
        for found in local.values():
            found.sort(key=_by_rank)
        for lines in crisis.values():
            lines.sort(key=lambda r: (not r.always_open, r.age_limited, *_by_rank(r)))
        directories.sort(key=_by_rank)
        for found in directories_by_topic.values():
            found.sort(key=_by_rank)
        return cls(
            library=library,
            topics=library.topics,
            messages_by_topic={topic: tuple(found) for topic, found in messages.items()},
            messages_by_topic_language={key: tuple(found) for key, found in by_language.items()},
            message_by_key={m.key: m for m in library.messages if m.enabled},
            local={key: tuple(found) for key, found in local.items()},
            crisis_lines={region: tuple(found) for region, found in crisis.items()},
            directories_by_topic={t: tuple(found) for t, found in directories_by_topic.items()},
            directories=tuple(directories),
            emergency_numbers={
                n.region: n.number for n in library.emergency_numbers if not n.needs_review
            },
            covered_regions=tuple(sorted({region for region, _topic in local if len(region) == 2})),
        )


def _by_rank(resource: Resource) -> tuple[int, str]:
    return (resource.rank, resource.title.casefold())
