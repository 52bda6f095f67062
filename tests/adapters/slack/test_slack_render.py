"""Card -> Block Kit: escaping of moderator text and splitting within Block Kit limits."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.slack.render import (
    ACTION_DM_COPY,
    ACTION_REGION,
    ACTION_TOPIC,
    HEADER_TEXT_LIMIT,
    MESSAGE_BLOCKS_MAX,
    MESSAGE_TEXT_BUDGET,
    SECTION_FIELD_LIMIT,
    SECTION_TEXT_LIMIT,
    block_text_size,
    escape,
    iter_texts,
    read_state_value,
    render_card,
    split_escaped,
    state_value,
)
from bot.core.cards import Card, CardContact, CardResource, CardTone, Choice, PageRef

HOSTILE = "<!channel> <!here> <@U123> <https://evil.example|Safe link> & more"


def _resource(index: int, **extra: Any) -> CardResource:
    return CardResource(
        title=extra.pop("title", f"Service {index}"),
        url=f"https://service{index}.example.org/help?a=1&b=2",
        domain=f"service{index}.example.org",
        description=extra.pop("description", "Listens without judgement."),
        contacts=(CardContact("Call", "0800 111", "tel:+44800111"),),
        hours="24/7",
        badges=("24/7",),
        last_verified="checked 2026-01-01",
        **extra,
    )


def _check_limits(blocks: list[dict[str, Any]]) -> None:
    """Every Block Kit limit this renderer promises, checked on a real payload."""
    assert len(blocks) <= MESSAGE_BLOCKS_MAX
    assert block_text_size(blocks) <= MESSAGE_TEXT_BUDGET
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= HEADER_TEXT_LIMIT
        if block["type"] == "section":
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= SECTION_TEXT_LIMIT
            for field in block.get("fields", []):
                assert len(field["text"]) <= SECTION_FIELD_LIMIT
            assert len(block.get("fields", [])) <= 10
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
            for element in block["elements"]:
                if element["type"] == "button":
                    assert len(element["text"]["text"]) <= 75
                    assert len(element.get("value", "")) <= 2000
                else:
                    assert len(element["options"]) <= 100
                    for option in element["options"]:
                        assert len(option["text"]["text"]) <= 75
                        assert len(option["value"]) <= 150


def _mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [text for kind, text in iter_texts(blocks) if kind == "mrkdwn"]


def test_moderator_text_is_escaped_everywhere_it_is_parsed() -> None:
    card = Card(
        title=HOSTILE,
        body=HOSTILE,
        tone=CardTone.SUPPORT,
        resources=(_resource(1, title=HOSTILE, description=HOSTILE),),
        fields=(("Text", HOSTILE),),
        lines=(HOSTILE,),
        footer=HOSTILE,
        choices=(Choice("Coming out", "coming-out"),),
        topic="general",
        message_key="m1",
    )
    [message] = render_card(card, dm_copy=True)
    for text in [*_mrkdwn_texts(message.blocks), message.text]:
        # No raw control character from the moderator's text survives.
        assert "<!channel>" not in text
        assert "<!here>" not in text
        assert "<@U123>" not in text
        assert "<https://evil.example|Safe link>" not in text
    body = "\n".join(_mrkdwn_texts(message.blocks))
    assert "&lt;!channel&gt;" in body
    assert "&lt;https://evil.example|Safe link&gt; &amp; more" in body
    assert "&lt;!channel&gt;" in message.text


def test_link_buttons_and_contact_links_are_real_links() -> None:
    card = Card(title="T", tone=CardTone.SUPPORT, resources=(_resource(1),), topic="general")
    [message] = render_card(card)
    section = next(b for b in message.blocks if b.get("accessory"))
    assert section["accessory"]["url"] == "https://service1.example.org/help?a=1&b=2"
    assert section["accessory"]["text"]["text"] == "Open service1.example.org"
    # The domain is always beside the title, so a label cannot hide where a link goes.
    assert "*Service 1*  ·  service1.example.org" in section["text"]["text"]


def test_support_controls_carry_topic_region_and_message_key() -> None:
    card = Card(
        title="Coming out",
        tone=CardTone.SUPPORT,
        choices=(Choice("Family", "family"), Choice("Crisis", "crisis")),
        region_choices=(Choice("United Kingdom (GB)", "GB"),),
        topic="coming-out",
        region=None,
        message_key="co-1",
    )
    [message] = render_card(card, dm_copy=True)
    actions = next(b for b in message.blocks if b["type"] == "actions")
    by_id = {element["action_id"]: element for element in actions["elements"]}
    topic_values = [read_state_value(o["value"]) for o in by_id[ACTION_TOPIC]["options"]]
    assert topic_values == [("family", None, None), ("crisis", None, None)]
    assert read_state_value(by_id[ACTION_REGION]["options"][0]["value"]) == (
        "coming-out",
        "GB",
        None,
    )
    assert read_state_value(by_id[ACTION_DM_COPY]["value"]) == ("coming-out", None, "co-1")


def test_public_posts_have_no_interactive_controls() -> None:
    card = Card(
        title="Resources",
        tone=CardTone.SUPPORT,
        choices=(Choice("Family", "family"),),
        topic="general",
        message_key="m",
        actions=(Choice("Apply", "/support-admin pack apply token:x"),),
    )
    [message] = render_card(card, interactive=False)
    assert all(block["type"] != "actions" for block in message.blocks)


def test_a_long_body_is_split_into_sections_not_rejected() -> None:
    paragraph = ("Word & <more> words. " * 60).strip()
    body = "\n\n".join([paragraph] * 10)  # ~13k raw characters, more once escaped
    card = Card(title="Long", body=body, tone=CardTone.INFO)
    messages = render_card(card)
    sections = [b for m in messages for b in m.blocks if b["type"] == "section"]
    assert len(sections) >= 5
    for message in messages:
        _check_limits(message.blocks)
    joined = " ".join(s["text"]["text"] for s in sections)
    assert joined.count("&lt;more&gt;") == body.count("<more>")


def test_many_lines_split_across_messages_within_budget() -> None:
    card = Card(
        title="History",
        lines=tuple(f"{i}: changed the text of message-{i} & <kept> it" for i in range(1500)),
        page=PageRef(page=2, page_count=5, command="/support-admin message history"),
    )
    messages = render_card(card)
    assert len(messages) > 1
    for message in messages:
        _check_limits(message.blocks)
    all_text = "\n".join(t for m in messages for t in _mrkdwn_texts(m.blocks))
    assert "1499: changed the text of message-1499" in all_text
    # The page buttons run the same command with another page.
    last = messages[-1].blocks
    buttons = [e for b in last if b["type"] == "actions" for e in b["elements"]]
    assert {b["value"] for b in buttons} == {
        "/support-admin message history page:1",
        "/support-admin message history page:3",
    }
    assert messages[1].text == "History (continued)"


def test_many_resources_and_fields_stay_under_fifty_blocks() -> None:
    card = Card(
        title="All",
        tone=CardTone.SUPPORT,
        resources=tuple(_resource(i) for i in range(60)),
        fields=tuple((f"Field {i}", "x" * 2500 if i == 3 else f"value {i}") for i in range(25)),
        topic="general",
    )
    messages = render_card(card)
    assert len(messages) >= 2
    for message in messages:
        _check_limits(message.blocks)
    accessories = [b for m in messages for b in m.blocks if b.get("accessory")]
    assert len(accessories) == 60


def test_action_buttons_run_command_lines() -> None:
    card = Card(
        title="Import preview",
        actions=(Choice("Apply", "/support-admin pack apply token:abc"),),
    )
    [message] = render_card(card)
    [button] = [e for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    assert button["value"] == "/support-admin pack apply token:abc"
    assert button["action_id"] == "haven_run_0"


def test_error_cards_list_valid_choices() -> None:
    card = Card(
        title="Topic 'x' is not one I know.",
        tone=CardTone.ERROR,
        choices=(Choice("Coming out", "coming-out"),),
    )
    [message] = render_card(card)
    assert message.blocks[0]["text"]["text"].startswith(":warning:")
    assert any("`coming-out` Coming out" in t for t in _mrkdwn_texts(message.blocks))


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=0, max_size=9000), st.integers(min_value=20, max_value=3000))
def test_split_escaped_round_trips_and_respects_the_limit(text: str, limit: int) -> None:
    pieces = split_escaped(text, limit)
    assert all(0 < len(piece) <= limit for piece in pieces)
    # Nothing is lost: unescaping and removing whitespace gives the same characters back.
    joined = "".join(pieces).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert "".join(joined.split()) == "".join(text.split())


@settings(max_examples=60, deadline=None)
@given(
    st.text(max_size=4000),
    st.lists(st.text(max_size=120), max_size=200),
    st.lists(st.tuples(st.text(max_size=60), st.text(max_size=2500)), max_size=30),
)
def test_any_card_renders_within_limits(body: str, lines: list[str], fields: list[Any]) -> None:
    card = Card(title=body[:300] or "t", body=body, lines=tuple(lines), fields=tuple(fields))
    messages = render_card(card)
    assert messages
    for message in messages:
        _check_limits(message.blocks)
        json.dumps(message.payload())  # serialisable as sent


def test_state_value_survives_garbage() -> None:
    assert read_state_value(state_value("a", "GB", "k")) == ("a", "GB", "k")
    assert read_state_value("not a state") == (None, None, None)
    assert read_state_value("a|b|c|d") == (None, None, None)
    assert read_state_value("||") == (None, None, None)
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"
