"""Whatever a Card holds, the rendered message fits Discord's limits (checked by the same
rules the emulator answers 400 / 50035 with)."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.discord import component_ids as ids
from bot.adapters.discord.render import render_card
from bot.core.cards import Attachment, Card, CardContact, CardResource, CardTone, Choice, PageRef
from tests.fakes.fake_discord import validate_message

text = st.text(min_size=0, max_size=3000)
short = st.text(min_size=1, max_size=300)
slug = st.from_regex(r"[a-z][a-z0-9-]{0,40}", fullmatch=True)
url = st.builds(lambda path: f"https://example.org/{path}", st.text("abc/-_", max_size=600))

resources = st.builds(
    CardResource,
    title=short,
    url=url,
    domain=st.just("example.org"),
    description=text,
    contacts=st.lists(
        st.builds(CardContact, label=short, display=short, link=st.none() | url), max_size=4
    ).map(tuple),
    hours=short,
    badges=st.lists(short, max_size=3).map(tuple),
    last_verified=st.just("checked 2026-11-28"),
)
choices = st.lists(st.builds(Choice, label=short, value=slug, description=text), max_size=40).map(
    tuple
)
cards = st.builds(
    Card,
    title=short,
    body=text,
    tone=st.sampled_from(list(CardTone)),
    resources=st.lists(resources, max_size=8).map(tuple),
    fields=st.lists(st.tuples(short, text), max_size=30).map(tuple),
    lines=st.lists(text, max_size=20).map(tuple),
    footer=text,
    choices=choices,
    region_choices=choices,
    page=st.none()
    | st.builds(
        PageRef,
        page=st.integers(1, 9),
        page_count=st.integers(1, 9),
        command=st.text(min_size=1, max_size=300),
    ),
    topic=st.none() | slug,
    region=st.none() | st.sampled_from(["GB", "US", "IE"]),
    message_key=st.none() | slug,
    actions=st.lists(st.builds(Choice, label=short, value=short), max_size=6).map(tuple),
    attachment=st.none() | st.just(Attachment("pack.yaml", b"x")),
)


def payload(card: Card) -> dict[str, Any]:
    async def build() -> dict[str, Any]:
        rendered = render_card(card, ids.ShortLivedStore())
        return {
            "embeds": [rendered.embed.to_dict()],
            "components": rendered.view.to_components() if rendered.view else [],
        }

    return asyncio.run(build())


@settings(max_examples=60, deadline=None)
@given(cards)
def test_any_card_fits_discord_limits(card: Card) -> None:
    assert validate_message(payload(card)) == []


def test_a_huge_card_is_trimmed_not_refused() -> None:
    card = Card(
        title="t" * 1000,
        body="b" * 5000,
        fields=tuple((f"name {i}", "v" * 2000) for i in range(40)),
        footer="f" * 3000,
    )
    built = payload(card)
    assert validate_message(built) == []
    embed = built["embeds"][0]
    assert embed["title"].endswith("…") and len(embed["title"]) <= 256
