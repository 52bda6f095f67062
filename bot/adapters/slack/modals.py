"""Slack modals for moderators: message add/edit, resource add/edit, schedule add.

A modal is only a form: its submission becomes the same `(group, verb, options)` the text
grammar produces, and goes through `CommandRouter.admin`, which checks permission and validates
exactly as on every other platform. Block ids are the option names, so turning a submission back
into options (and a validation problem "url: ..." back into an error under the URL field) needs
no per-modal code.

Limits (Block Kit, views): title/submit/close ≤24 characters, ≤100 blocks, plain_text_input
`max_length` ≤3000, `private_metadata` ≤3000, option text ≤75 and value ≤150.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.adapters.slack.render import card_blocks, escape, pack_blocks
from bot.core.cards import Card, CardTone, Choice
from bot.core.content.validation import (
    MAX_CONTACT_LENGTH,
    MAX_DESCRIPTION_LENGTH,
    MAX_HOURS_LENGTH,
    MAX_KEY_LENGTH,
    MAX_MESSAGE_LENGTH,
    MAX_TITLE_LENGTH,
    MAX_URL_LENGTH,
)
from bot.core.models import Contact, ContactKind, Resource, SupportMessage

CALLBACK_ID = "haven_admin_modal"
ACTION_TIMEZONE = "haven_timezone"
VIEW_BLOCKS_MAX = 100
METADATA_LIMIT = 3000
ERROR_TEXT_LIMIT = 2000

# The verbs a bare `/support-admin <group> <verb> [key]` opens a modal for.
MODAL_COMMANDS = {
    ("message", "add"),
    ("message", "edit"),
    ("resource", "add"),
    ("resource", "edit"),
    ("schedule", "add"),
}

_TITLES = {
    ("message", "add"): "Add a message",
    ("message", "edit"): "Edit a message",
    ("resource", "add"): "Add a resource",
    ("resource", "edit"): "Edit a resource",
    ("schedule", "add"): "Schedule a post",
}


@dataclass(frozen=True, slots=True)
class ModalState:
    """What a submission needs besides the form: carried in `private_metadata`."""

    group: str
    verb: str
    key: str | None = None
    version: int | None = None
    channel_id: str | None = None

    def dump(self) -> str:
        data = {"g": self.group, "v": self.verb, "k": self.key, "n": self.version}
        data["c"] = self.channel_id
        return json.dumps(data, separators=(",", ":"))[:METADATA_LIMIT]

    @classmethod
    def load(cls, raw: str) -> ModalState | None:
        try:
            data = json.loads(raw or "")
        except ValueError:
            return None
        if not isinstance(data, dict) or (data.get("g"), data.get("v")) not in MODAL_COMMANDS:
            return None
        version = data.get("n")
        return cls(
            group=str(data["g"]),
            verb=str(data["v"]),
            key=str(data["k"]) if data.get("k") else None,
            version=version if isinstance(version, int) else None,
            channel_id=str(data["c"]) if data.get("c") else None,
        )


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _text_input(
    name: str,
    label: str,
    *,
    max_length: int,
    initial: str | None = None,
    multiline: bool = False,
    optional: bool = False,
    placeholder: str | None = None,
    hint: str | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": multiline,
        "max_length": min(max_length, 3000),
    }
    if initial:
        element["initial_value"] = initial[: element["max_length"]]
    if placeholder:
        element["placeholder"] = _plain(placeholder[:150])
    block: dict[str, Any] = {
        "type": "input",
        "block_id": name,
        "label": _plain(label),
        "optional": optional,
        "element": element,
    }
    if hint:
        block["hint"] = _plain(hint)
    return block


def _option(choice: Choice) -> dict[str, Any]:
    label = choice.label if len(choice.label) <= 75 else choice.label[:74] + "…"
    return {"text": _plain(label), "value": choice.value[:150]}


def _topics_input(
    topics: Sequence[Choice], selected: Sequence[str], *, optional: bool = False
) -> dict[str, Any]:
    options = [_option(choice) for choice in topics[:100]]
    element: dict[str, Any] = {
        "type": "multi_static_select",
        "action_id": "value",
        "placeholder": _plain("Choose topics"),
        "options": options,
    }
    initial = [option for option in options if option["value"] in selected]
    if initial:
        element["initial_options"] = initial
    return {
        "type": "input",
        "block_id": "topics",
        "label": _plain("Topics"),
        "optional": optional,
        "element": element,
    }


def _view(
    title: str, blocks: list[dict[str, Any]], state: ModalState, submit: str
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": _plain(title[:24]),
        "submit": _plain(submit[:24]),
        "close": _plain("Cancel"),
        "private_metadata": state.dump(),
        "blocks": blocks[:VIEW_BLOCKS_MAX],
    }


def message_modal(
    topics: Sequence[Choice],
    message: SupportMessage | None = None,
    channel_id: str | None = None,
) -> dict[str, Any]:
    verb = "edit" if message else "add"
    blocks = [
        _text_input(
            "text",
            "Message",
            max_length=MAX_MESSAGE_LENGTH,
            initial=message.text if message else None,
            multiline=True,
            placeholder="A short, warm message people see with the resources.",
        ),
        _topics_input(topics, message.topics if message else ()),
    ]
    if message is None:
        blocks.append(
            _text_input(
                "locale",
                "Language",
                max_length=16,
                optional=True,
                placeholder="en",
                hint="A language code such as en, es or pt-BR. Leave empty for English.",
            )
        )
    state = ModalState(
        "message",
        verb,
        key=message.key if message else None,
        version=message.version if message else None,
        channel_id=channel_id,
    )
    return _view(_TITLES[("message", verb)], blocks, state, "Save")


def _contact(resource: Resource | None, kind: ContactKind) -> str | None:
    if resource is None:
        return None
    found: Contact | None = next((c for c in resource.contacts if c.kind is kind), None)
    return found.display if found else None


def resource_modal(
    topics: Sequence[Choice],
    resource: Resource | None = None,
    channel_id: str | None = None,
) -> dict[str, Any]:
    verb = "edit" if resource else "add"
    r = resource
    blocks: list[dict[str, Any]] = [
        _text_input("title", "Name", max_length=MAX_TITLE_LENGTH, initial=r.title if r else None),
        _text_input(
            "url",
            "Web address (https://)",
            max_length=MAX_URL_LENGTH,
            initial=r.url if r else None,
            placeholder="https://www.example.org",
        ),
        _topics_input(topics, r.topics if r else ()),
        _text_input(
            "regions",
            "Countries",
            max_length=200,
            initial=", ".join(r.regions) if r else None,
            placeholder="GB, IE — or global for international services",
        ),
        _text_input(
            "description",
            "What it offers",
            max_length=MAX_DESCRIPTION_LENGTH,
            initial=r.description if r else None,
            multiline=True,
            optional=True,
        ),
        _text_input(
            "phone",
            "Phone",
            max_length=MAX_CONTACT_LENGTH,
            initial=_contact(r, ContactKind.PHONE),
            optional=True,
            placeholder="116 123 (or +44 116 123)",
        ),
        _text_input(
            "sms",
            "Text / SMS",
            max_length=MAX_CONTACT_LENGTH,
            initial=_contact(r, ContactKind.TEXT),
            optional=True,
        ),
        _text_input(
            "chat",
            "Web chat (https://)",
            max_length=MAX_CONTACT_LENGTH,
            initial=_contact(r, ContactKind.CHAT),
            optional=True,
        ),
        _text_input(
            "email",
            "Email",
            max_length=MAX_CONTACT_LENGTH,
            initial=_contact(r, ContactKind.EMAIL),
            optional=True,
        ),
        _text_input(
            "hours",
            "Opening hours",
            max_length=MAX_HOURS_LENGTH,
            initial=r.hours if r else None,
            optional=True,
            placeholder="24/7, or Mon–Fri 9am–5pm",
        ),
        {
            "type": "input",
            "block_id": "crisis",
            "label": _plain("Is it a crisis service?"),
            "element": {
                "type": "radio_buttons",
                "action_id": "value",
                "options": [
                    {"text": _plain("Yes: it handles crisis or suicide calls"), "value": "yes"},
                    {"text": _plain("No"), "value": "no"},
                ],
                "initial_option": (
                    {"text": _plain("Yes: it handles crisis or suicide calls"), "value": "yes"}
                    if r and r.crisis_service
                    else {"text": _plain("No"), "value": "no"}
                ),
            },
        },
    ]
    if r is None:
        blocks.append(
            _text_input(
                "key",
                "Key (optional)",
                max_length=MAX_KEY_LENGTH,
                optional=True,
                hint="A short id such as gb-samaritans. Left empty, Haven makes one.",
            )
        )
    state = ModalState(
        "resource",
        verb,
        key=r.key if r else None,
        version=r.version if r else None,
        channel_id=channel_id,
    )
    return _view(_TITLES[("resource", verb)], blocks, state, "Save")


def schedule_modal(
    topics: Sequence[Choice], timezone: str, channel_id: str | None = None
) -> dict[str, Any]:
    tz_option = {"text": _plain(timezone[:75]), "value": timezone[:150]}
    blocks: list[dict[str, Any]] = [
        {
            "type": "input",
            "block_id": "channel",
            "label": _plain("Channel"),
            "element": {
                "type": "conversations_select",
                "action_id": "value",
                "default_to_current_conversation": True,
                "filter": {"include": ["public", "private"], "exclude_bot_users": True},
            },
        },
        _text_input(
            "when",
            "When",
            max_length=100,
            placeholder="daily 09:00 — or weekdays 18:30, mon,thu 12:00, a cron line",
        ),
        {
            "type": "input",
            "block_id": "topic",
            "label": _plain("Topic"),
            "optional": True,
            "element": {
                "type": "static_select",
                "action_id": "value",
                "placeholder": _plain("The topic whose resources to post"),
                "options": [_option(choice) for choice in topics[:100]],
            },
        },
        _text_input(
            "message",
            "Message key (optional)",
            max_length=MAX_KEY_LENGTH,
            optional=True,
            hint="Post this message every time. Left empty, messages rotate.",
        ),
        {
            "type": "input",
            "block_id": "timezone",
            "label": _plain("Time zone"),
            "element": {
                "type": "external_select",
                "action_id": ACTION_TIMEZONE,
                "min_query_length": 1,
                "placeholder": _plain("Type a city or zone, e.g. London"),
                "initial_option": tz_option,
            },
        },
    ]
    state = ModalState("schedule", "add", channel_id=channel_id)
    return _view(_TITLES[("schedule", "add")], blocks, state, "Schedule")


def _element_value(element: Mapping[str, Any]) -> str | None:
    kind = element.get("type")
    if kind == "plain_text_input":
        value = element.get("value")
        return str(value) if value is not None else ""
    if kind in ("static_select", "external_select", "radio_buttons"):
        selected = element.get("selected_option")
        return str(selected["value"]) if isinstance(selected, Mapping) else None
    if kind in ("multi_static_select", "checkboxes"):
        selected_list = element.get("selected_options") or []
        return ",".join(str(o["value"]) for o in selected_list if isinstance(o, Mapping))
    if kind == "conversations_select":
        conversation = element.get("selected_conversation")
        return str(conversation) if conversation else None
    return None


def submission_options(view: Mapping[str, Any]) -> tuple[ModalState, dict[str, str]] | None:
    """(state, options) from a view_submission's `view`; None if it is not one of ours."""
    if view.get("callback_id") != CALLBACK_ID:
        return None
    state = ModalState.load(str(view.get("private_metadata") or ""))
    if state is None:
        return None
    values = (view.get("state") or {}).get("values") or {}
    options: dict[str, str] = {}
    for block_id, elements in values.items():
        if not isinstance(elements, Mapping):
            continue
        for element in elements.values():
            if not isinstance(element, Mapping):
                continue
            value = _element_value(element)
            if value is None:
                continue
            if state.verb == "add" and value == "":
                continue  # an empty optional field on add: not given
            options[str(block_id)] = value
    if state.key:
        options["key"] = state.key
    if state.version is not None:
        options["version"] = str(state.version)
    return state, options


_FIELD_AT_START = re.compile(r"^\s*([a-z][a-z-]*):")


def field_errors(card: Card, view: Mapping[str, Any]) -> dict[str, str]:
    """Map an error card onto the modal's fields: Slack shows each under its input.

    Problems read "url: must start with https://"; those naming a field of the form go under
    it, the rest under the first field, so the moderator keeps what they typed.
    """
    block_ids = [
        str(block.get("block_id"))
        for block in view.get("blocks") or []
        if isinstance(block, Mapping) and block.get("type") == "input"
    ]
    if not block_ids or card.tone is not CardTone.ERROR:
        return {}
    errors: dict[str, list[str]] = {}
    sentences = [part.strip() for part in card.body.split(";") if part.strip()] or [card.title]
    for sentence in sentences:
        match = _FIELD_AT_START.match(sentence)
        target = match.group(1) if match and match.group(1) in block_ids else block_ids[0]
        errors.setdefault(target, []).append(sentence)
    if card.footer and block_ids[0] in errors:
        errors[block_ids[0]].append(card.footer)
    elif card.footer:
        first = next(iter(errors))
        errors[first].append(card.footer)
    return {key: " ".join(value)[:ERROR_TEXT_LIMIT] for key, value in errors.items()}


def result_view(card: Card) -> dict[str, Any]:
    """A finished modal showing the outcome (the card, escaped, without controls)."""
    groups = pack_blocks(card_blocks(card, interactive=False))
    blocks = groups[0][:VIEW_BLOCKS_MAX] if groups else []
    return {
        "type": "modal",
        "title": _plain("Haven"),
        "close": _plain("Done"),
        "blocks": blocks
        or [{"type": "section", "text": {"type": "mrkdwn", "text": escape(card.title)}}],
    }
