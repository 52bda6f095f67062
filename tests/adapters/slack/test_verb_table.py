"""A verb added to the core's table works in help, the console grammar and Slack with no other
edit (Discord: tests/adapters/discord/test_verb_table.py)."""

from __future__ import annotations

import pytest

from bot.core.models import LOCAL_COMMUNITY_ID, Actor, Platform, RequestContext
from bot.services import Services
from tests.adapters.extra_verb import NAME_LIMIT, greeting_table
from tests.adapters.slack.conftest import ADMIN, SignedSender


async def test_a_new_verb_appears_in_help_the_console_and_slack(
    slack: SignedSender, services: Services
) -> None:
    services.router.add_table(greeting_table())

    help_lines = services.router.help_card().lines
    assert any("/support-admin greeting wave name:" in line for line in help_lines)

    console = RequestContext(
        platform=Platform.CONSOLE,
        community_id=LOCAL_COMMUNITY_ID,
        actor=Actor(id="local", display_name="you", has_admin_permission=True),
    )
    await services.communities.ensure(Platform.CONSOLE, "local")
    typed = await services.router.run_text(console, "/support-admin greeting wave Sam")
    assert typed.title == "Hello Sam"

    answered = await slack.command("/support-admin", "greeting wave name:Sam", user_id=ADMIN)
    assert answered.status == 200
    assert "Hello Sam" in str(answered.json)
    too_long = await slack.command(
        "/support-admin", f"greeting wave {'x' * (NAME_LIMIT + 1)}", user_id=ADMIN
    )
    assert f"the limit is {NAME_LIMIT}" in str(too_long.json)


async def test_a_typed_line_passes_the_moderator_gate_once(
    slack: SignedSender, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    router = services.router
    gate = router._gate
    calls: list[str] = []

    async def counted(*args: object) -> object:
        calls.append("gate")
        return await gate(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(router, "_gate", counted)
    listed = await slack.command("/support-admin", "message list", user_id=ADMIN)
    assert listed.status == 200 and "Messages" in str(listed.json)
    assert calls == ["gate"]
