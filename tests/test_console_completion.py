"""Console tab completion offers commands, groups, verbs and topics."""

from __future__ import annotations

from pathlib import Path

from bot.adapters.console import _Completer, render_card
from bot.app import open_services
from bot.core.cards import Card, Choice, PageRef
from bot.settings import Settings


async def test_completion_candidates(tmp_path: Path) -> None:
    async with open_services(Settings(database_path=tmp_path / "h.db")) as services:
        completer = _Completer(services)
        assert completer.candidates("/sup") == ["/support", "/support-admin", "/support-contact"]
        assert "coming-out" in completer.candidates("/support com")
        assert completer.candidates("/support-admin me") == ["message"]
        assert "undo" in completer.candidates("/support-admin message u")
        assert completer.candidates("/support-admin schedule ad") == ["add"]


def test_render_card_shows_paging_and_actions() -> None:
    text = render_card(
        Card(
            title="Messages (12)",
            lines=("a", "b"),
            page=PageRef(1, 2, "/support-admin message list"),
            actions=(Choice("Apply", "/support-admin pack apply token:x"),),
        )
    )
    assert "Page 1 of 2 — next: /support-admin message list page:2" in text
    assert "[Apply] run: /support-admin pack apply token:x" in text
