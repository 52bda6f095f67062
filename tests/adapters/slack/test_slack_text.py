"""Slash-command text as Slack sends it: entities and wrapped links decoded before the grammar
reads it (unit tests of bot/adapters/slack/text.py, then the exact form bodies over signed HTTP
through the real Bolt app)."""

from __future__ import annotations

import pytest

from bot.adapters.slack.text import command_text, decode_entities
from bot.services import Services
from tests.adapters.slack.conftest import ADMIN, SignedSender, community_id, field_of, texts_of
from tests.fakes.fake_slack import FakeSlack


@pytest.mark.parametrize(
    ("sent", "typed"),
    [
        ("", ""),
        ("coming-out GB", "coming-out GB"),
        # Entities, decoded once: a typed `&lt;` arrives as `&amp;lt;` and stays `&lt;`.
        ("Tom &amp; Jerry &lt;3 &gt;_&lt;", "Tom & Jerry <3 >_<"),
        ("&amp;lt; &amp;amp; &amp;gt;", "&lt; &amp; &gt;"),
        ("&quot; &#60; &copy; & alone", "&quot; &#60; &copy; & alone"),
        # Links: the address Slack resolved, never the label.
        ("<https://example.org|example.org>", "https://example.org"),
        ("<https://example.org>", "https://example.org"),
        ("url:<https://example.org/a?b=1&amp;c=2>", "url:https://example.org/a?b=1&c=2"),
        (
            "<https://example.org/a?b=1&amp;c=2|example.org/a?b=1&amp;c=2>",
            "https://example.org/a?b=1&c=2",
        ),
        ("<https://evil.example|https://good.example>", "https://evil.example"),
        ("<https://evil.example|Safe>", "https://evil.example"),
        ("<mailto:a@b.org|a@b.org>", "a@b.org"),
        ("see <http://example.org|example.org> now", "see http://example.org now"),
        # A typed wrapper is text, not a link: its brackets came as entities.
        ("&lt;https://evil.example|Safe&gt;", "<https://evil.example|Safe>"),
        ("&lt;!channel&gt;", "<!channel>"),
        # Channels, users and user groups stay in the forms bot/core/mentions.py reads.
        ("<#C0123ABCD|general>", "<#C0123ABCD|general>"),
        ("<#C0123ABCD>", "<#C0123ABCD>"),
        ("<#C0123ABCD|>", "<#C0123ABCD|>"),
        ("<@U0123ABCD|alex>", "<@U0123ABCD|alex>"),
        ("<@U0123ABCD>", "<@U0123ABCD>"),
        ("<!subteam^S0123ABCD|@helpers>", "<!subteam^S0123ABCD|@helpers>"),
        ("<!subteam^S0123ABCD>", "<!subteam^S0123ABCD>"),
        # Special mentions as typed; plain text pings nobody.
        ("<!here> all", "@here all"),
        ("<!channel> <!everyone> <!here|here>", "@channel @everyone @here"),
        ("<!date^1392734382^{date}|Feb 18>", "<!date^1392734382^{date}|Feb 18>"),
        # Everything at once, in order.
        (
            'title:"Tom &amp; Jerry" url:<https://example.org/a?b=1&amp;c=2> roles:<!subteam^S1|@h>'
            " text:Be kind &lt;3 to <@U1|alex> in <#C0123ABCD|general>",
            'title:"Tom & Jerry" url:https://example.org/a?b=1&c=2 roles:<!subteam^S1|@h>'
            " text:Be kind <3 to <@U1|alex> in <#C0123ABCD|general>",
        ),
        # A stray bracket Slack would never send is left alone.
        ("a < b", "a < b"),
        ("<>", "<>"),
    ],
)
def test_command_text_gives_back_what_was_typed(sent: str, typed: str) -> None:
    assert command_text(sent) == typed


def test_decoding_is_one_pass() -> None:
    assert decode_entities("&amp;amp;") == "&amp;"
    assert decode_entities("&amp;gt;") == "&gt;"
    # What was decoded is never read again as a wrapper.
    assert command_text("&lt;https://x.example&gt; &lt;#C0123ABCD&gt;") == (
        "<https://x.example> <#C0123ABCD>"
    )


async def test_resource_add_stores_the_title_and_url_as_typed(
    slack: SignedSender, services: Services
) -> None:
    # The exact text Slack sends for: title:"Tom & Jerry" url:https://example.org/a?b=1&c=2 ...
    sent = (
        'resource add title:"Tom &amp; Jerry" url:<https://example.org/a?b=1&amp;c=2> '
        "topics:crisis regions:GB"
    )
    added = await slack.command("/support-admin", sent, user_id=ADMIN)
    assert added.status == 200
    answer = added.json
    assert answer["blocks"][0]["text"]["text"].endswith("Resource added"), texts_of(answer)
    key = field_of(answer, "Key")

    library = await services.support.library(community_id())
    [stored] = [resource for resource in library.resources if resource.key == key]
    assert stored.title == "Tom & Jerry"
    assert stored.url == "https://example.org/a?b=1&c=2"

    shown = (await slack.command("/support-admin", f"resource show {key}", user_id=ADMIN)).json
    # Escaped once for display, as every answer is.
    assert "Tom &amp; Jerry" in texts_of(shown)
    assert "https://example.org/a?b=1&amp;c=2" in texts_of(shown)
    assert "&amp;amp;" not in texts_of(shown)


async def test_a_link_whose_label_differs_stores_the_real_address(
    slack: SignedSender, services: Services
) -> None:
    sent = (
        "resource add title:Helpline url:<https://evil.example/x|https://good.example/x> "
        "topics:crisis regions:GB"
    )
    answer = (await slack.command("/support-admin", sent, user_id=ADMIN)).json
    key = field_of(answer, "Key")
    library = await services.support.library(community_id())
    [stored] = [resource for resource in library.resources if resource.key == key]
    assert stored.url == "https://evil.example/x"


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("Be kind &lt;3", "Be kind <3"),
        ("Tom &amp; Jerry &lt;3", "Tom & Jerry <3"),
        ("Typed &amp;lt;b&amp;gt; stays", "Typed &lt;b&gt; stays"),
        (
            "Read <https://example.org/a?b=1&amp;c=2|example.org/a?b=1&amp;c=2> first",
            "Read https://example.org/a?b=1&c=2 first",
        ),
        ("<!here> you are welcome", "@here you are welcome"),
    ],
)
async def test_message_add_stores_the_text_as_typed(
    slack: SignedSender, services: Services, sent: str, stored: str
) -> None:
    added = await slack.command(
        "/support-admin", f"message add topics:coming-out text:{sent}", user_id=ADMIN
    )
    answer = added.json
    assert answer["blocks"][0]["text"]["text"].endswith("Message added"), texts_of(answer)
    key = field_of(answer, "Key")
    library = await services.support.library(community_id())
    [message] = [message for message in library.messages if message.key == key]
    assert message.text == stored


async def test_message_add_without_topics_stores_the_text_as_typed(
    slack: SignedSender, services: Services
) -> None:
    answer = (
        await slack.command("/support-admin", "message add text:Be kind &lt;3", user_id=ADMIN)
    ).json
    assert answer["blocks"][0]["text"]["text"].endswith("Message added"), texts_of(answer)
    key = field_of(answer, "Key")
    library = await services.support.library(community_id())
    [message] = [message for message in library.messages if message.key == key]
    assert message.text == "Be kind <3"


async def test_channel_user_and_group_references_still_reach_the_core(
    slack: SignedSender, services: Services, fake: FakeSlack
) -> None:
    await slack.command("/support", "")  # the workspace exists
    fake.add_user("U0123ABCD", name="alex")
    fake.add_user("U0456EFGH", name="sam")
    fake.add_usergroup("S0123ABCD", ["U0123ABCD"], handle="helpers")
    for sent in (
        "settings log-channel channel:<#C0123ABCD|general>",
        'settings moderator-users users:"<@U0123ABCD|alex>, <@U0456EFGH>"',
        "settings moderator-roles roles:<!subteam^S0123ABCD|@helpers>",
    ):
        reply = await slack.command("/support-admin", sent, user_id=ADMIN)
        assert reply.json["blocks"][0]["text"]["text"].endswith("Settings saved"), sent
    community = await services.communities.get(community_id())
    assert community is not None
    assert community.log_channel_id == "C0123ABCD"
    assert community.moderator_user_ids == ("U0123ABCD", "U0456EFGH")
    assert community.moderator_role_ids == ("S0123ABCD",)
