"""The shared text grammar: positional words, name:value, quotes, a final text: to the end."""

from __future__ import annotations

import pytest

from bot.core.commands.grammar import parse_line, quote, split_list
from bot.core.errors import ValidationFailed


def test_support_positional_words() -> None:
    parsed = parse_line("/support coming-out GB")
    assert parsed.command == "/support"
    assert parsed.words == ("coming-out", "GB")
    assert parsed.options == {}


def test_options_quotes_and_final_text() -> None:
    parsed = parse_line(
        '/support-admin schedule add channel:<#C1|welcome> when:"daily 09:00" topic:crisis'
    )
    assert parsed.words == ("schedule", "add")
    assert parsed.options == {"channel": "<#C1|welcome>", "when": "daily 09:00", "topic": "crisis"}
    text = parse_line("/support-admin message add topics:coming-out text:You set the pace: always")
    assert text.options["text"] == "You set the pace: always"
    assert text.options["topics"] == "coming-out"


def test_escaped_quotes_and_urls_with_colons() -> None:
    parsed = parse_line('/x title:"Say \\"hi\\"" url:https://a.org/p?q=1')
    assert parsed.options == {"title": 'Say "hi"', "url": "https://a.org/p?q=1"}


def test_unclosed_quote_and_repeated_option_are_clear_errors() -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_line('/x when:"daily 09:00')
    assert "not closed" in raised.value.message
    with pytest.raises(ValidationFailed) as raised:
        parse_line("/x key:a key:b")
    assert "given twice" in raised.value.message


def test_quote_round_trips() -> None:
    for value in ("plain", "two words", 'a "quoted" word', ""):
        assert parse_line(f"/x v:{quote(value)}").options["v"] == value


def test_split_list_accepts_commas_and_spaces() -> None:
    assert split_list("coming-out, family  crisis") == ["coming-out", "family", "crisis"]
