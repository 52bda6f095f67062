"""custom_id encoding for Haven's buttons, selects and modals.

Discord sends a component's `custom_id` (1-100 characters) back when it is used. Haven puts
everything needed to answer in the id itself (`haven:dm:coming-out:GB:msg-key`), so a button
still works after a restart and nothing about the person is kept in memory. Only values too long
for 100 characters (a long command line, a form with many carried options) go into a bounded,
short-lived in-memory store and are referenced by a random token.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import quote, unquote

log = logging.getLogger(__name__)

PREFIX = "haven"
MAX_CUSTOM_ID = 100
NONE = "-"

# Kinds of component ids.
TOPIC_SELECT = "topic"  # haven:topic:<region>            values: [topic]
REGION_SELECT = "region"  # haven:region:<topic>           values: [region]
DM_COPY = "dm"  # haven:dm:<topic>:<region>:<message key>
REPORT_SELECT = "report"  # haven:report                  values: [/support-report <key> <kind>]
RUN = "run"  # haven:run:<command line>   (or haven:runref:<token>)
RUN_REF = "runref"
FORM = "form"  # haven:form:<group>:<verb>:<k=v&k=v>  (or haven:formref:<token>)
FORM_REF = "formref"
# The moderator contact line. A person's buttons carry their reply key (only in their own
# DM or private answer), so they work after a restart and Haven keeps nothing to find them.
CONTACT = "contact"  # haven:contact:<verb>[:<key>]       /support-contact <verb> [<key>]
CONTACT_FORM = "cform"  # haven:cform:<verb>[:<key>]       modal: the text of a request/answer
CONTACT_MOD = "cmod"  # haven:cmod:<verb>:<number>         /support-admin contact <verb> number:N


@dataclass(frozen=True, slots=True)
class ParsedId:
    kind: str
    parts: tuple[str, ...]


def _enc(value: str | None) -> str:
    # ":" separates parts; percent-encode it (and "%") inside values. Empty/None -> "-".
    if value is None or value == "":
        return NONE
    return quote(value, safe="")


def _dec(value: str) -> str | None:
    return None if value == NONE else unquote(value)


def make_id(kind: str, *parts: str | None) -> str:
    return ":".join((PREFIX, kind, *(_enc(p) for p in parts)))


def parse_id(custom_id: str) -> ParsedId | None:
    """None for ids that are not Haven's."""
    prefix, sep, rest = custom_id.partition(":")
    if prefix != PREFIX or not sep:
        return None
    kind, _, tail = rest.partition(":")
    parts = tuple(_dec(p) or "" for p in tail.split(":")) if tail else ()
    return ParsedId(kind, parts)


def optional(value: str) -> str | None:
    return value or None


class ShortLivedStore:
    """Values referenced by token from a custom_id: bounded (oldest dropped) and expiring.

    Holds only command lines and moderator form options, never anything from /support.
    """

    def __init__(self, capacity: int = 1024, lifetime: float = 15 * 60) -> None:
        self._capacity = capacity
        self._lifetime = lifetime
        self._items: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def put(self, value: str) -> str:
        token = secrets.token_urlsafe(9)
        self._items[token] = (time.monotonic() + self._lifetime, value)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)
        return token

    def get(self, token: str) -> str | None:
        found = self._items.get(token)
        if found is None:
            return None
        expires, value = found
        if expires < time.monotonic():
            del self._items[token]
            return None
        return value

    def __len__(self) -> int:
        return len(self._items)


def contact_id(line: str) -> str | None:
    """The custom_id of a contact-line button (see CONTACT, CONTACT_MOD), or None for any
    other line. Never falls back to the in-memory store: a person's key must survive a
    restart in the button itself."""
    words = line.split()
    found: str | None
    if words[:1] == ["/support-contact"] and len(words) <= 3:
        found = make_id(CONTACT, *words[1:]) if len(words) > 1 else make_id(CONTACT, "start")
    elif words[:2] == ["/support-admin", "contact"] and len(words) == 4:
        number = words[3].removeprefix("number:")
        found = make_id(CONTACT_MOD, words[2], number) if number.isdigit() else None
    else:
        return None
    return found if found is not None and len(found) <= MAX_CUSTOM_ID else None


def run_id(command_line: str, store: ShortLivedStore, salt: str = "") -> str:
    """A button that runs `command_line` through CommandRouter.run_text when pressed.

    `salt` keeps ids unique when two buttons on one message run the same line (Discord refuses
    duplicate custom_ids in a message).
    """
    direct = make_id(RUN, command_line, salt or None)
    if len(direct) <= MAX_CUSTOM_ID:
        return direct
    return make_id(RUN_REF, store.put(command_line), salt or None)


def resolve_run(parsed: ParsedId, store: ShortLivedStore) -> str | None:
    if parsed.kind == RUN and parsed.parts:
        return parsed.parts[0]
    if parsed.kind == RUN_REF and parsed.parts:
        return store.get(parsed.parts[0])
    return None


def encode_options(options: dict[str, str]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in options.items())


def decode_options(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in text.split("&") if text else ():
        key, _, value = pair.partition("=")
        out[unquote(key)] = unquote(value)
    return out


def form_id(group: str, verb: str, carried: dict[str, str], store: ShortLivedStore) -> str:
    """A modal's custom_id carrying the command and the options given with it (e.g. the key
    and version of the message being edited)."""
    payload = encode_options(carried)
    direct = make_id(FORM, group, verb, payload or None)
    if len(direct) <= MAX_CUSTOM_ID:
        return direct
    return make_id(FORM_REF, store.put(f"{group}\n{verb}\n{payload}"))


def resolve_form(
    parsed: ParsedId, store: ShortLivedStore
) -> tuple[str, str, dict[str, str]] | None:
    if parsed.kind == FORM and len(parsed.parts) >= 2:
        payload = parsed.parts[2] if len(parsed.parts) > 2 else ""
        return parsed.parts[0], parsed.parts[1], decode_options(payload)
    if parsed.kind == FORM_REF and parsed.parts:
        stored = store.get(parsed.parts[0])
        if stored is None:
            return None
        group, verb, payload = stored.split("\n", 2)
        return group, verb, decode_options(payload)
    return None
