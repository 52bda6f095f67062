"""Validation: links, text, keys and mention neutralising, with messages that say how to fix."""

from __future__ import annotations

import pytest

from bot.core.content.validation import (
    check_url,
    clean_text,
    display_domain,
    make_mentions_inert,
)
from bot.core.errors import ValidationFailed


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("javascript:alert(1)", "must start with https://"),
        ("data:text/html,hi", "must start with https://"),
        ("file:///etc/passwd", "must start with https://"),
        ("http://example.org", "must start with https://"),
        ("https://trusted.org@evil.com/", "user name"),
        ("https://user:pw@evil.com/", "user name"),
        ("https://exa mple.org", "spaces"),
        ("https://example.org/\x00", "control"),
        ("https://" + "a" * 520 + ".org", "at most 512"),
        ("https:///nohost", "host name"),
        ("", "must not be empty"),
    ],
)
def test_bad_urls_are_refused_with_the_reason(url: str, expected: str) -> None:
    problems = check_url("url", url)
    assert problems and expected in problems[0]
    assert problems[0].startswith("url:")


def test_good_url_passes_and_domain_is_shown_in_punycode() -> None:
    assert check_url("url", "https://www.samaritans.org/how-we-can-help/") == []
    assert display_domain("https://www.samaritans.org/x") == "samaritans.org"
    assert display_domain("https://bücher.example/x") == "xn--bcher-kva.example"


def test_text_limits_and_bidi_characters() -> None:
    with pytest.raises(ValidationFailed) as raised:
        clean_text("title", "x" * 81, max_length=80)
    assert "81 characters; the limit is 80" in raised.value.message
    with pytest.raises(ValidationFailed) as raised:
        clean_text("title", "evil\u202etxt.exe", max_length=80)
    assert "U+202E" in raised.value.message
    with pytest.raises(ValidationFailed):
        clean_text("title", "zero\u200bwidth", max_length=80)
    assert clean_text("text", "line one\nline two", max_length=100, allow_newlines=True)


@pytest.mark.parametrize(
    "text", ["@everyone", "@here", "<@&123>", "<@456>", "<!channel>", "<!here>", "<#789>"]
)
def test_mentions_are_made_inert(text: str) -> None:
    inert = make_mentions_inert(f"hello {text} bye")
    assert text not in inert
    assert inert.replace("\u2060", "") == f"hello {text} bye"
