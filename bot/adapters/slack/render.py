"""Card -> Slack Block Kit with a plain-text fallback, escaped and split within Block Kit limits.

Two rules shape everything here:
- every piece of text that reaches a `mrkdwn` field or the fallback `text` is escaped (`&`, `<`,
  `>` -> entities), so moderator content such as `<!channel>` or `<https://evil|Safe>` shows as
  literal text: no ping, no disguised link. `plain_text` objects are
  never parsed for mentions or links, so they are only truncated;
- Slack rejects a message over its limits instead of trimming it (section text 3000, 50 blocks,
  and `msg_blocks_too_long` seen at ~13.2k characters of block text, below any per-block limit).
  Long content is split into more sections and, past the per-message budget, into more
  messages; nothing is ever dropped or sent over a limit.

Interactive elements carry their state in `value`s, so no per-person state is kept server-side:
the topic/region selects and the DM-copy button carry topic, region and message key; page and
action buttons carry the command line to run.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.cards import Card, CardResource, CardTone, Choice
from bot.core.i18n import Words, translator

# Block Kit limits (docs.slack.dev reference/block-kit; slack_sdk/models/blocks).
SECTION_TEXT_LIMIT = 3000
SECTION_FIELD_LIMIT = 2000
SECTION_FIELDS_MAX = 10
HEADER_TEXT_LIMIT = 150
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
OPTION_TEXT_LIMIT = 75
OPTION_VALUE_LIMIT = 150
OPTIONS_MAX = 100
ACTIONS_ELEMENTS_MAX = 25
CONTEXT_ELEMENTS_MAX = 10
MESSAGE_BLOCKS_MAX = 50
OVERFLOW_OPTIONS_MAX = 5
# Below every documented limit but far from the observed ~13.2k `msg_blocks_too_long` point.
MESSAGE_TEXT_BUDGET = 11_000
# The notification/fallback text: Slack truncates at 40k; a notification needs far less.
FALLBACK_TEXT_LIMIT = 3000

# action_ids the listeners register for.
ACTION_TOPIC = "haven_topic"
ACTION_REGION = "haven_region"
ACTION_DM_COPY = "haven_dm_copy"
ACTION_RUN = "haven_run"  # matched as a prefix pattern: haven_run_0, haven_run_1 ...
ACTION_PAGE = "haven_page"  # haven_page_prev / haven_page_next
ACTION_LINK = "haven_link"  # link buttons: Slack still sends an action we must ack
ACTION_REPORT = "haven_report"  # a resource's report menu: haven_report_0, haven_report_1 ...
# The contact line's buttons (bot/adapters/slack/contact_listeners.py): a person's
# (`/support-contact ...`: open a form or answer privately, never replace the message) and the
# moderators' on an inbox message (`/support-admin contact ...`: the inbox message stays).
ACTION_CONTACT = "haven_contact"  # haven_contact_0 ...
ACTION_INBOX = "haven_inbox"  # haven_inbox_0 ...
CONTACT_LINE = "/support-contact"
INBOX_LINE = "/support-admin contact "

_TONE_PREFIX = {
    CardTone.ERROR: ":warning: ",
    CardTone.SUCCESS: ":white_check_mark: ",
    CardTone.INFO: "",
    CardTone.SUPPORT: "",
}


def escape(text: str) -> str:
    """Slack's three control characters as entities: the text shows exactly as written."""
    # str.replace is several times faster than translate here, and this runs on every answer.
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _truncate(text: str, limit: int) -> str:
    text = " ".join(text.split()) if "\n" in text else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(text: str, limit: int) -> dict[str, Any]:
    # `emoji` defaults to true: leaving it out keeps every answer smaller.
    return {"type": "plain_text", "text": _truncate(text, limit) or " "}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _escaped_length(token: str) -> int:
    return len(token) + 4 * token.count("&") + 3 * (token.count("<") + token.count(">"))


def split_escaped(text: str, limit: int = SECTION_TEXT_LIMIT) -> list[str]:
    """Escape `text` and cut it into pieces of at most `limit` characters each.

    Cuts fall on paragraph, line or word boundaries where possible and never inside an entity,
    so no piece ends with half of `&amp;`.
    """
    escaped_whole = escape(text)
    if len(escaped_whole) <= limit:
        # The common case (every /support answer): one piece, no tokenising.
        whole = escaped_whole.strip("\n ")
        return [whole] if whole else []
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    # Keep separators as their own tokens so the pieces join back to the original text.
    for token in re.split(r"(\n\n+|\n|[ \t]+)", text):
        if not token:
            continue
        cost = _escaped_length(token)
        if size + cost > limit and current:
            pieces.append("".join(current))
            current, size = [], 0
            if token.isspace():
                continue
        while cost > limit:
            # One word longer than a section: cut by characters, whole entities only.
            head: list[str] = []
            used = 0
            for index, char in enumerate(token):
                char_cost = _escaped_length(char)
                if used + char_cost > limit:
                    token = token[index:]
                    break
                head.append(char)
                used += char_cost
            pieces.append("".join(head))
            cost = _escaped_length(token)
        current.append(token)
        size += cost
    if current:
        pieces.append("".join(current))
    escaped = [escape(piece).strip("\n ") for piece in pieces]
    return [piece for piece in escaped if piece] or []


def _link(url: str, label: str) -> str:
    """A mrkdwn link whose label is escaped and whose URL cannot close the link early."""
    safe_url = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E")
    safe_url = safe_url.replace("|", "%7C")
    return f"<{safe_url}|{escape(label)}>"


def _sections(text: str, block_id: str | None = None) -> list[dict[str, Any]]:
    blocks = [{"type": "section", "text": _mrkdwn(piece)} for piece in split_escaped(text)]
    if block_id and blocks:
        blocks[0]["block_id"] = block_id
    return blocks


def _resource_blocks(resource: CardResource, index: int, words: Words) -> list[dict[str, Any]]:
    head = f"*{escape(resource.title)}*  ·  {escape(resource.domain)}"
    if resource.badges:
        head += "  " + "  ".join(f"`{escape(badge)}`" for badge in resource.badges)
    lines = [head]
    if resource.description:
        lines.append(escape(resource.description))
    for contact in resource.contacts:
        shown = (
            _link(contact.link, contact.display)
            if contact.link and contact.link.startswith(("https://", "mailto:"))
            else escape(contact.display)
        )
        lines.append(f"{escape(contact.label)}: {shown}" if contact.label else shown)
    if resource.hours:
        lines.append(words.gettext("Hours: {hours}").format(hours=escape(resource.hours)))
    if resource.last_verified:
        # In the section, not a context block of its own: the answer is sent in the ack, and
        # every block costs bytes and encoding time there.
        lines.append(f"_{escape(resource.last_verified)}_")
    text = "\n".join(lines)
    button = {
        "type": "button",
        "action_id": f"{ACTION_LINK}_{index}",
        "text": _plain(
            words.gettext("Open {site}").format(site=resource.domain), BUTTON_TEXT_LIMIT
        ),
        "url": resource.url,
    }
    blocks: list[dict[str, Any]]
    if len(text) <= SECTION_TEXT_LIMIT:
        blocks = [{"type": "section", "text": _mrkdwn(text), "accessory": button}]
    else:
        # Validation keeps resources far below this; split rather than fail if it ever grows.
        blocks = [{"type": "section", "text": _mrkdwn(piece)} for piece in _split_lines(text)]
        blocks[0]["accessory"] = button
    return blocks


def _report_menu(resource: CardResource, index: int) -> dict[str, Any]:
    """The resource's "report a problem" overflow, right under it: each option's value is the
    report's command line (a section holds one accessory, and that is the link)."""
    return {
        "type": "actions",
        "block_id": f"{ACTION_REPORT}_{index}",
        "elements": [
            {
                "type": "overflow",
                "action_id": f"{ACTION_REPORT}_{index}",
                "options": [_option(report.label, report.value) for report in resource.reports][
                    :OVERFLOW_OPTIONS_MAX
                ],
            }
        ],
    }


def _split_lines(escaped_text: str) -> list[str]:
    """Split already-escaped text on line boundaries (lines are far shorter than a section)."""
    pieces: list[str] = []
    current = ""
    for line in escaped_text.split("\n"):
        while len(line) > SECTION_TEXT_LIMIT:
            cut = line.rfind(" ", 0, SECTION_TEXT_LIMIT)
            cut = cut if cut > 0 else SECTION_TEXT_LIMIT
            # Never cut inside an entity such as &amp;.
            amp = line.rfind("&", max(0, cut - 5), cut)
            if amp != -1 and ";" not in line[amp:cut]:
                cut = amp
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:].lstrip(" ")
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > SECTION_TEXT_LIMIT:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def _field_blocks(fields: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    row: list[dict[str, Any]] = []
    for name, value in fields:
        text = f"*{escape(name)}*\n{escape(value) if value else '—'}"
        if len(text) > SECTION_FIELD_LIMIT:
            # A long value (a message's text) gets sections of its own.
            if row:
                blocks.append({"type": "section", "fields": row})
                row = []
            blocks.extend(_sections(f"{name}:\n{value}"))
            continue
        row.append(_mrkdwn(text))
        if len(row) == SECTION_FIELDS_MAX:
            blocks.append({"type": "section", "fields": row})
            row = []
    if row:
        blocks.append({"type": "section", "fields": row})
    return blocks


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": _plain(label, OPTION_TEXT_LIMIT), "value": value[:OPTION_VALUE_LIMIT]}


def _select(action_id: str, placeholder: str, options: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "static_select",
        "action_id": action_id,
        "placeholder": _plain(placeholder, 150),
        "options": options[:OPTIONS_MAX],
    }


def state_value(topic: str | None, region: str | None, message_key: str | None = None) -> str:
    """What a support card's controls carry: enough to rebuild or switch the card.

    `topic|region|key`: slugs, region codes and keys never contain `|` (validation allows
    letters, digits and dashes), and this is built for every option of every answer, so it is
    kept cheaper than JSON."""
    return f"{topic or ''}|{region or ''}|{message_key or ''}"


def read_state_value(value: str) -> tuple[str | None, str | None, str | None]:
    """(topic, region, message key) from `state_value`; Nones for anything missing. The parts
    are only ever passed back to the core, which validates them like typed input."""
    parts = value.split("|")
    if len(parts) != 3:
        return None, None, None
    topic, region, key = (part.strip() or None for part in parts)
    return topic, region, key


def _support_controls(card: Card, words: Words, *, dm_copy: bool) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = []
    if card.region_choices:
        elements.append(
            _select(
                ACTION_REGION,
                words.gettext("Choose your country"),
                [
                    _option(choice.label, state_value(card.topic, choice.value))
                    for choice in card.region_choices
                ],
            )
        )
    if card.choices:
        elements.append(
            _select(
                ACTION_TOPIC,
                words.gettext("Other topics"),
                [
                    _option(choice.label, state_value(choice.value, card.region))
                    for choice in card.choices
                ],
            )
        )
    if dm_copy and card.message_key is not None:
        elements.append(
            {
                "type": "button",
                "action_id": ACTION_DM_COPY,
                "text": _plain(words.gettext("Send me a copy by DM"), BUTTON_TEXT_LIMIT),
                "value": state_value(card.topic, card.region, card.message_key),
            }
        )
    return (
        [{"type": "actions", "block_id": "haven_support", "elements": elements}] if elements else []
    )


def button_action_id(index: int, line: str) -> str:
    """Which listener a button carrying `line` goes to: the contact line's own (they must not
    replace the message they sit on), else the one that runs the line in place."""
    if line == CONTACT_LINE or line.startswith(CONTACT_LINE + " "):
        return f"{ACTION_CONTACT}_{index}"
    if line.startswith(INBOX_LINE):
        return f"{ACTION_INBOX}_{index}"
    return f"{ACTION_RUN}_{index}"


def _command_buttons(card: Card, words: Words) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = []
    for index, action in enumerate(card.actions):
        if len(action.value) > BUTTON_VALUE_LIMIT:
            continue  # cannot carry it; the card's text still says what to type
        button: dict[str, Any] = {
            "type": "button",
            "action_id": button_action_id(index, action.value),
            "text": _plain(action.label, BUTTON_TEXT_LIMIT),
            "value": action.value,
            **({"style": "primary"} if index == 0 else {}),
        }
        elements.append(button)
    page = card.page
    if page is not None and page.page_count > 1:
        if page.page > 1:
            elements.append(
                {
                    "type": "button",
                    "action_id": f"{ACTION_PAGE}_prev",
                    "text": _plain(words.gettext("Previous"), BUTTON_TEXT_LIMIT),
                    "value": f"{page.command} page:{page.page - 1}"[:BUTTON_VALUE_LIMIT],
                }
            )
        if page.page < page.page_count:
            elements.append(
                {
                    "type": "button",
                    "action_id": f"{ACTION_PAGE}_next",
                    "text": _plain(words.gettext("Next"), BUTTON_TEXT_LIMIT),
                    "value": f"{page.command} page:{page.page + 1}"[:BUTTON_VALUE_LIMIT],
                }
            )
    blocks = []
    for start in range(0, len(elements), ACTIONS_ELEMENTS_MAX):
        blocks.append(
            {"type": "actions", "elements": elements[start : start + ACTIONS_ELEMENTS_MAX]}
        )
    return blocks


def card_blocks(
    card: Card, *, dm_copy: bool = False, interactive: bool = True
) -> list[dict[str, Any]]:
    """Every block for a card, in order, each within its own limits (not yet split into
    messages). `interactive` False leaves out selects and buttons that need a listener (a public
    scheduled post); `dm_copy` adds the "Send me a copy by DM" button to support cards."""
    words = translator(card.locale)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _plain(_TONE_PREFIX[card.tone] + card.title, HEADER_TEXT_LIMIT)}
    ]
    if len(card.title) > HEADER_TEXT_LIMIT:
        blocks.extend(_sections(card.title))
    if card.body:
        blocks.extend(_sections(card.body))
    blocks.extend(_field_blocks(card.fields))
    if card.lines:
        blocks.extend(_sections("\n".join(card.lines)))
    if card.resources:
        blocks.append({"type": "divider"})
        for index, resource in enumerate(card.resources):
            blocks.extend(_resource_blocks(resource, index, words))
            if interactive and card.tone is CardTone.SUPPORT and resource.reports:
                blocks.append(_report_menu(resource, index))
    if card.tone is not CardTone.SUPPORT and card.choices:
        # Valid values on an error card: listed, since they are answers to type, not menus.
        heading = f"*{escape(card.choices_label)}*\n" if card.choices_label else ""
        blocks.extend(_sections_raw(heading + _choice_lines_escaped(card.choices)))
    if card.page is not None and card.page.page_count > 1:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    _mrkdwn(
                        words.gettext("Page {page} of {count}").format(
                            page=card.page.page, count=card.page.page_count
                        )
                    )
                ],
            }
        )
    if interactive:
        if card.tone is CardTone.SUPPORT:
            blocks.extend(_support_controls(card, words, dm_copy=dm_copy))
        blocks.extend(_command_buttons(card, words))
    elif card.region_choices:
        blocks.extend(
            _sections(
                words.gettext("Choose your country for local services: {codes}").format(
                    codes=", ".join(choice.value for choice in card.region_choices)
                )
            )
        )
    if card.footer:
        blocks.append(
            {
                "type": "context",
                "elements": [_mrkdwn(piece) for piece in split_escaped(card.footer)][
                    :CONTEXT_ELEMENTS_MAX
                ],
            }
        )
    return blocks


def _choice_lines_escaped(choices: Sequence[Choice]) -> str:
    return "\n".join(
        f"• `{escape(choice.value)}` {escape(choice.label)}"
        + (f": {escape(choice.description)}" if choice.description else "")
        for choice in choices
    )


def _sections_raw(escaped_text: str) -> list[dict[str, Any]]:
    return [{"type": "section", "text": _mrkdwn(piece)} for piece in _split_lines(escaped_text)]


def block_text_size(block: Any) -> int:
    """Characters of text in a block, the measure behind `msg_blocks_too_long`."""
    if isinstance(block, dict):
        return sum(
            len(value) if key == "text" and isinstance(value, str) else block_text_size(value)
            for key, value in block.items()
        )
    if isinstance(block, list):
        return sum(block_text_size(item) for item in block)
    return 0


def pack_blocks(blocks: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Group blocks into messages of at most 50 blocks and MESSAGE_TEXT_BUDGET characters."""
    if len(blocks) <= MESSAGE_BLOCKS_MAX and len(json.dumps(blocks)) <= MESSAGE_TEXT_BUDGET:
        # The serialised size bounds the text size: one message, no walk over every block.
        return [list(blocks)]
    messages: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for block in blocks:
        cost = block_text_size(block)
        if current and (len(current) >= MESSAGE_BLOCKS_MAX or size + cost > MESSAGE_TEXT_BUDGET):
            messages.append(current)
            current, size = [], 0
        current.append(block)
        size += cost
    if current:
        messages.append(current)
    return messages


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """One message to send: `text` is the notification and accessibility fallback."""

    text: str
    blocks: list[dict[str, Any]]

    def payload(self, **extra: Any) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks, **extra}


def fallback_text(card: Card) -> str:
    text = card.plain_text()
    # Only the first piece is used: cut the raw text first so a huge card is not tokenised.
    pieces = split_escaped(text[: FALLBACK_TEXT_LIMIT + 1], FALLBACK_TEXT_LIMIT)
    return pieces[0] if pieces else escape(card.title) or " "


def render_card(
    card: Card, *, dm_copy: bool = False, interactive: bool = True
) -> list[SlackMessage]:
    """The card as one or more messages, in order; the first is the one to answer with.

    The messages are shared between equal cards: callers must not modify them. Only /support
    answers are memoised: any other card may hold what must not outlive the call (a contact
    request's text in `contact list`, a dashboard sign-in link)."""
    if card.tone is not CardTone.SUPPORT:
        return list(_render.__wrapped__(card, dm_copy, interactive))
    return list(_render(card, dm_copy, interactive))


def render_private(card: Card) -> list[SlackMessage]:
    """`render_card` without the memo: for the contact line's cards, which hold a request's
    text or a person's reply key, so no copy of them outlives the call in this process."""
    return list(_render.__wrapped__(card, False, True))


# /support answers are immutable, hold no personal data and repeat (a topic, region and rotated
# message), so their rendering is memoised (render_card keeps every other card out): it is most
# of the adapter's per-answer cost.
@functools.lru_cache(maxsize=512)
def _render(card: Card, dm_copy: bool, interactive: bool) -> tuple[SlackMessage, ...]:
    groups = pack_blocks(card_blocks(card, dm_copy=dm_copy, interactive=interactive))
    first_text = fallback_text(card)
    more = f"{escape(_truncate(card.title, 200))} (continued)"
    return tuple(
        SlackMessage(text=first_text if index == 0 else more, blocks=group)
        for index, group in enumerate(groups)
    )


def iter_texts(blocks: Sequence[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    """(type, text) of every text object in the blocks: for checks that everything is escaped."""

    def walk(node: Any) -> Iterator[tuple[str, str]]:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                yield node["type"], node["text"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    yield from walk(list(blocks))
