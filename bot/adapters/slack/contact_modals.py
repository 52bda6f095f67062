"""The contact line's Slack modals: the person's form (what to say, anonymous or as myself, and
the check-in where the community offers it) and the form to answer on their request.

A submission becomes the same `/support-contact ...` line a person could type, so the core
applies one set of rules. `private_metadata` carries only what the line needs back: the
channel the form was opened from, or, for an answer, the person's reply key. That view is held
by Slack and shown only to the person, like the DM whose button opened it; Haven keeps neither.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.core.cards import Card, CardTone
from bot.core.contact.rules import TEXT_MAX, RequestKind, person_line
from bot.core.i18n import ENGLISH, N_, Words

CONTACT_CALLBACK = "haven_contact_form"
ANSWER_CALLBACK = "haven_contact_answer"
TEXT_BLOCK = "text"
KIND_BLOCK = "kind"
_ACTION = "value"
METADATA_LIMIT = 3000
# Block Kit: a modal's title, submit and close are at most 24 characters.
_TITLE_MAX = 24

# Translated where shown, in the person's words.
_KIND_LABELS = {
    RequestKind.ANONYMOUS: N_("Anonymous: the moderators never learn who wrote"),
    RequestKind.MYSELF: N_("As myself: the moderators see my name"),
    RequestKind.CHECK_IN: N_("I'm struggling right now: ask for a check-in"),
}
# The line's word for each kind (bot/core/contact/commands.py STARTS).
_KIND_WORDS = {
    RequestKind.ANONYMOUS: "anonymous",
    RequestKind.MYSELF: "myself",
    RequestKind.CHECK_IN: "struggling",
}


def _plain(text: str, limit: int = 3000) -> dict[str, Any]:
    text = text[:limit]
    return {"type": "plain_text", "text": text, "emoji": True}


def _radio(kind: RequestKind, words: Words) -> dict[str, Any]:
    # Option text is at most 75 characters in Block Kit; cut, should a translation be longer.
    return {"text": _plain(words.gettext(_KIND_LABELS[kind])[:75]), "value": _KIND_WORDS[kind]}


def _text_input(label: str, *, optional: bool, placeholder: str) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": TEXT_BLOCK,
        "label": _plain(label),
        "optional": optional,
        "element": {
            "type": "plain_text_input",
            "action_id": _ACTION,
            "multiline": True,
            "max_length": TEXT_MAX,
            "placeholder": _plain(placeholder),
        },
    }


def contact_view(
    channel_id: str | None,
    *,
    struggling: bool,
    chosen: str = "anonymous",
    words: Words = ENGLISH,
) -> dict[str, Any]:
    """The person's form, `chosen` (a line's word: anonymous, myself) picked. With the
    check-in offered, the text is optional (a check-in needs none; the core still refuses an
    empty anonymous or named request)."""
    kinds = [RequestKind.ANONYMOUS, RequestKind.MYSELF]
    if struggling:
        kinds.append(RequestKind.CHECK_IN)
    options = [_radio(kind, words) for kind in kinds]
    initial = next((o for o in options if o["value"] == chosen), options[0])
    return {
        "type": "modal",
        "callback_id": CONTACT_CALLBACK,
        "title": _plain(words.gettext("Talk to a moderator"), _TITLE_MAX),
        "submit": _plain(words.gettext("Send"), _TITLE_MAX),
        "close": _plain(words.gettext("Cancel"), _TITLE_MAX),
        "private_metadata": json.dumps({"c": channel_id or ""})[:METADATA_LIMIT],
        "blocks": [
            _text_input(
                words.gettext("What would you like to tell the moderators?"),
                optional=struggling,
                placeholder=words.gettext("Only the moderators read this."),
            ),
            {
                "type": "input",
                "block_id": KIND_BLOCK,
                "label": _plain(words.gettext("Who may the moderators know you are?")),
                "element": {
                    "type": "radio_buttons",
                    "action_id": _ACTION,
                    "options": options,
                    "initial_option": initial,
                },
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": words.gettext(
                            "Haven sends you a private message with buttons to read "
                            "replies, answer, close or delete your request."
                        ),
                    }
                ],
            },
        ],
    }


def answer_view(key: str, words: Words = ENGLISH) -> dict[str, Any]:
    """The form to write more on one's request; the key comes back with the submission."""
    return {
        "type": "modal",
        "callback_id": ANSWER_CALLBACK,
        "title": _plain(words.gettext("Answer the moderators"), _TITLE_MAX),
        "submit": _plain(words.gettext("Send"), _TITLE_MAX),
        "close": _plain(words.gettext("Cancel"), _TITLE_MAX),
        "private_metadata": json.dumps({"k": key})[:METADATA_LIMIT],
        "blocks": [
            _text_input(
                words.gettext("Your answer"),
                optional=False,
                placeholder=words.gettext("Only the moderators read this."),
            )
        ],
    }


def _metadata(view: Mapping[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(str(view.get("private_metadata") or ""))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _value(view: Mapping[str, Any], block_id: str) -> Mapping[str, Any]:
    values = (view.get("state") or {}).get("values") or {}
    block = values.get(block_id) or {}
    element = block.get(_ACTION) if isinstance(block, Mapping) else None
    return element if isinstance(element, Mapping) else {}


def contact_submission(view: Mapping[str, Any]) -> tuple[str, str | None]:
    """(the `/support-contact` line, the channel the form was opened from) of a submission.
    A kind that is not one of the form's (a forged payload) falls back to anonymous: the
    safer reading, and the core still checks everything else."""
    text = str(_value(view, TEXT_BLOCK).get("value") or "")
    selected = _value(view, KIND_BLOCK).get("selected_option")
    word = str(selected.get("value")) if isinstance(selected, Mapping) else ""
    if word not in _KIND_WORDS.values():
        word = _KIND_WORDS[RequestKind.ANONYMOUS]
    channel = str(_metadata(view).get("c") or "") or None
    return person_line(word, text), channel


def answer_submission(view: Mapping[str, Any]) -> str:
    """The `/support-contact answer <key> <text>` line of an answer form's submission."""
    key = str(_metadata(view).get("k") or "").strip()
    text = str(_value(view, TEXT_BLOCK).get("value") or "")
    # No key: the core's own sentence says what is missing.
    return f"{person_line('answer', key)} {text}"


def text_error(card: Card) -> dict[str, str] | None:
    """The error under the text field when the core refused the text itself (the person can
    fix it in the form); None for any other answer (shown in place of the form)."""
    if card.tone is not CardTone.ERROR or not card.body.startswith(f"{TEXT_BLOCK}:"):
        return None
    message = " ".join(part for part in (card.body, card.footer) if part)
    return {TEXT_BLOCK: message[:2000]}
