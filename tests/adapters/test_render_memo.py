"""Both renderers memoise /support answers only: any other card may hold what must not outlive
the call (a contact request's text in `contact list`, a dashboard sign-in link), so it leaves
no copy in the renderer's memory."""

from __future__ import annotations

from bot.adapters.discord import component_ids as ids
from bot.adapters.discord.render import CardRenderer
from bot.adapters.slack import render as slack_render
from bot.core.cards import Card, CardTone

SECRET = "Someone keeps messaging me about my transition"
SUPPORT = Card(title="Coming out", body="Your pace is the right pace.", tone=CardTone.SUPPORT)
PRIVATE = (
    Card(title="Open requests to the moderators", body=f"#1 (anonymous): {SECRET}"),
    Card(title="Your dashboard link", body="http://127.0.0.1/dashboard/login?token=abc"),
)


def test_discord_keeps_only_support_answers() -> None:
    renderer = CardRenderer(ids.ShortLivedStore(capacity=8))
    for card in PRIVATE:
        renderer.render(card)
    assert not renderer._cache  # what the renderer holds is the point
    first = renderer.render(SUPPORT)
    assert renderer.render(SUPPORT) is first and len(renderer._cache) == 1


def test_slack_keeps_only_support_answers() -> None:
    slack_render._render.cache_clear()
    for card in PRIVATE:
        slack_render.render_card(card)
    assert slack_render._render.cache_info().currsize == 0
    slack_render.render_card(SUPPORT)
    slack_render.render_card(SUPPORT)
    info = slack_render._render.cache_info()
    assert (info.currsize, info.hits) == (1, 1)
