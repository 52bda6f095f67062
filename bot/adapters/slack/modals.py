"""Slack modals for moderators: the core's FormRequest (which verbs open a form, with which
fields, prefilled how) shown as a Block Kit view, and its submission read back.

A modal is only a form: its submission becomes the same `(group, verb, options)` the text
grammar produces, and goes through `CommandRouter.admin`, which checks permission and validates
exactly as on every other platform. Block ids are the option names, so turning a submission back
into options (and a validation problem "url: ..." back into an error under the URL field) needs
no per-modal code; each input is chosen from what its option is (topics, yes/no, channel, zone).

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
from bot.core.commands.grammar import split_list
from bot.core.commands.verbs import Completion, FormField, FormRequest, OptionKind

CALLBACK_ID = "haven_admin_modal"
ACTION_TIMEZONE = "haven_timezone"
VIEW_BLOCKS_MAX = 100
METADATA_LIMIT = 3000
ERROR_TEXT_LIMIT = 2000
TEXT_INPUT_MAX = 3000
LABEL_MAX = 2000


@dataclass(frozen=True, slots=True)
class ModalState:
    """What a submission needs besides the form: carried in `private_metadata`."""

    group: str
    verb: str
    carried: Mapping[str, str]
    channel_id: str | None = None

    def dump(self) -> str:
        data = {"g": self.group, "v": self.verb, "o": dict(self.carried), "c": self.channel_id}
        return json.dumps(data, separators=(",", ":"))[:METADATA_LIMIT]

    @classmethod
    def load(cls, raw: str) -> ModalState | None:
        try:
            data = json.loads(raw or "")
        except ValueError:
            return None
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in "gv"):
            return None
        carried = data.get("o")
        carried = carried if isinstance(carried, dict) else {}
        return cls(
            group=data["g"],
            verb=data["v"],
            carried={str(k): str(v) for k, v in carried.items()},
            channel_id=str(data["c"]) if data.get("c") else None,
        )


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _option(choice: Choice) -> dict[str, Any]:
    label = choice.label if len(choice.label) <= 75 else choice.label[:74] + "…"
    return {"text": _plain(label), "value": choice.value[:150]}


def _element(field: FormField, topics: Sequence[Choice]) -> dict[str, Any]:
    """The Block Kit input for one option, chosen by what the option is."""
    option, value = field.option, field.value
    if option.completion in (Completion.TOPICS, Completion.TOPIC):
        options = [_option(choice) for choice in topics[:100]]
        chosen = set(split_list(value))
        initial = [o for o in options if o["value"] in chosen]
        if option.completion is Completion.TOPIC:
            element: dict[str, Any] = {"type": "static_select", "options": options}
            if initial:
                element["initial_option"] = initial[0]
        else:
            element = {"type": "multi_static_select", "options": options}
            if initial:
                element["initial_options"] = initial
        element["placeholder"] = _plain("Choose topics")
        return element
    if option.kind is OptionKind.YES_NO:
        answers = [_yes_no("yes"), _yes_no("no")]
        return {
            "type": "radio_buttons",
            "options": answers,
            "initial_option": answers[0] if value == "yes" else answers[1],
        }
    if option.kind is OptionKind.CHANNEL:
        return {
            "type": "conversations_select",
            "default_to_current_conversation": True,
            "filter": {"include": ["public", "private"], "exclude_bot_users": True},
        }
    if option.completion is Completion.TIMEZONE:
        element = {
            "type": "external_select",
            "min_query_length": 1,
            "placeholder": _plain("Type a city or zone, e.g. London"),
        }
        if value:
            element["initial_option"] = {"text": _plain(value[:75]), "value": value[:150]}
        return element
    element = {
        "type": "plain_text_input",
        "multiline": option.kind is OptionKind.PARAGRAPH,
        "max_length": min(option.max_length, TEXT_INPUT_MAX),
    }
    if value:
        element["initial_value"] = value[: element["max_length"]]
    if option.placeholder:
        element["placeholder"] = _plain(option.placeholder.strip('"<>')[:150])
    return element


def _yes_no(answer: str) -> dict[str, Any]:
    return {"text": _plain("Yes" if answer == "yes" else "No"), "value": answer}


def form_view(
    request: FormRequest, topics: Sequence[Choice], channel_id: str | None = None
) -> dict[str, Any]:
    """A FormRequest from the core as a Slack modal: one input per field, block id = option."""
    blocks = []
    for field in request.fields:
        element = _element(field, topics)
        element["action_id"] = (
            ACTION_TIMEZONE if field.option.completion is Completion.TIMEZONE else "value"
        )
        blocks.append(
            {
                "type": "input",
                "block_id": field.option.name,
                "label": _plain(field.option.description[:LABEL_MAX]),
                "optional": not field.option.required,
                "element": element,
            }
        )
    state = ModalState(request.group, request.verb, request.carried, channel_id)
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": _plain(request.title[:24]),
        "submit": _plain("Save"),
        "close": _plain("Cancel"),
        "private_metadata": state.dump(),
        "blocks": blocks[:VIEW_BLOCKS_MAX],
    }


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
    return state, {**options, **state.carried}


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
