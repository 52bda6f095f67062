"""What issue 12 asks of an answer in each shipped language, shared by the Discord, Slack and
console tests: `/support crisis <region>` in the person's language shows that country's line and
emergency number, a supportive message from the default pack in that language (never the
English one), and Haven's own words from the same catalog."""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import cache

from bot.app import default_library
from bot.core.i18n import translator
from bot.core.locales import best_locale


@dataclass(frozen=True)
class LanguageCase:
    locale: str  # as the platform sends it
    region: str
    must_show: tuple[str, ...]  # the country's line and emergency number


CASES = (
    LanguageCase("es-ES", "ES", ("024", "112")),
    LanguageCase("pt-BR", "BR", ("CVV", "188")),
    LanguageCase("de", "DE", ("TelefonSeelsorge", "0800 111 0 111", "112")),
    LanguageCase("fr", "FR", ("3114", "112")),
)
IDS = [case.locale for case in CASES]


@cache
def crisis_messages(locale: str) -> tuple[tuple[str, str], ...]:
    """(English text, text in `locale`) of every shipped crisis message."""
    pairs = []
    for message in default_library().messages:
        if "crisis" not in message.topics:
            continue
        tag = best_locale(locale, [t for t, _ in message.translations])
        assert tag is not None, f"{message.key} has no {locale} translation"
        translation = message.translation(tag)
        assert translation is not None
        pairs.append((message.text, translation.text))
    return tuple(pairs)


def _flat(text: str) -> str:
    # Line wrapping (console) and Slack's escaping of & < > do not change what a person reads.
    return " ".join(html.unescape(text).split())


def assert_answer_in(shown: str, case: LanguageCase) -> None:
    """`shown` (everything the person sees, as text) is the answer `case` asks for."""
    shown = _flat(shown)
    for expected in case.must_show:
        assert expected in shown, (expected, shown)
    pairs = [(_flat(a), _flat(b)) for a, b in crisis_messages(case.locale)]
    assert any(translated in shown for _, translated in pairs), shown
    assert not any(english in shown for english, _ in pairs), "an English message was shown"
    words = translator(case.locale)
    only_you = words.gettext("Only you can see this.")
    assert only_you != "Only you can see this." and only_you in shown
