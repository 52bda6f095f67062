"""Each `/support-admin` verb declared once: its options, positions, help line, form and handler.

Everything else is derived from these declarations: the router checks options against them,
the console and Slack grammar read positional words from them, `help` prints them, the Discord
adapter builds its slash commands (option types, length limits, choices, autocomplete) from them,
and both platforms decide from them which verbs open a form. Adding a verb to a group's table is
the only edit a new command needs.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.cards import Card
from bot.core.errors import ValidationFailed
from bot.core.models import Community, RequestContext
from bot.core.ports import Clock

# Discord caps a command's and an option's description at 100 characters.
DESCRIPTION_MAX = 100


class OptionKind(enum.Enum):
    TEXT = "text"  # one line
    PARAGRAPH = "paragraph"  # may span lines (a message's text, a description)
    NUMBER = "number"  # a whole number (page, schedule id)
    YES_NO = "yes-no"
    CHOICE = "choice"  # one of `choices`
    CHANNEL = "channel"  # a channel of this community
    # A file to read: a Discord attachment, or a path in the console. Its text reaches the
    # handler as the `content` option and its name as `filename`.
    FILE = "file"
    # Where the console writes the file the answer carries (elsewhere the file is sent).
    SAVE_AS = "save-as"


class Completion(enum.Enum):
    """What a platform may offer while the option is typed (Discord autocomplete, Slack menus)."""

    NONE = "none"
    TOPIC = "topic"
    TOPICS = "topics"  # a comma-separated list of topics
    REGION = "region"
    REGIONS = "regions"
    TIMEZONE = "timezone"
    MESSAGE_KEY = "message-key"
    RESOURCE_KEY = "resource-key"


@dataclass(frozen=True, slots=True)
class Option:
    name: str
    description: str
    kind: OptionKind = OptionKind.TEXT
    required: bool = False
    # The longest value accepted, checked before anything else reads the value (a 1 MB time
    # zone must not reach fuzzy matching). Taken from bot/core/content/validation.py.
    max_length: int = 100
    min_value: int = 1
    max_value: int | None = None
    choices: tuple[str, ...] = ()
    completion: Completion = Completion.NONE
    # Other names a moderator may type for it (`topic:` where `topics:` is asked for).
    aliases: tuple[str, ...] = ()
    placeholder: str = ""  # shown inside form fields and in usage lines: `title:"Name"`
    # Carried by forms and buttons (an edit's `version`), never typed: not in help or menus.
    hidden: bool = False

    def usage(self) -> str:
        shown = self.placeholder or f"<{self.name}>"
        return f"{self.name}:{shown}" if self.required else f"[{self.name}:{shown}]"


@dataclass(frozen=True, slots=True)
class Form:
    """The verb opens a form (Discord modal, Slack view) when one of the options it `needs` is
    missing, or, with no `needs` (an edit), when none of its fields is given.

    `fields` are the options the form asks for, most important first (Discord shows five at
    most). A form's submission runs the same verb with the same checks as a typed command.
    """

    title: str
    fields: tuple[str, ...]
    needs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FormField:
    option: Option
    value: str = ""


@dataclass(frozen=True, slots=True)
class FormRequest:
    """A form to show, prefilled: what adapters render as a Discord modal or a Slack view."""

    group: str
    verb: str
    title: str
    fields: tuple[FormField, ...]
    # Options that go back with the submission unchanged (the edited item's key and version).
    carried: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PublicPosts:
    """The verb posts in a public channel at once (`schedule test`), so a moderator may run it
    `burst` times in a row in one community, then once every `every_seconds`.

    Everyone in the channel sees each post; the limit keeps a runaway loop, a stuck key or a
    compromised moderator account from flooding it, while a moderator checking a change (test,
    fix, test again) never meets it.
    """

    burst: int
    every_seconds: int

    def __post_init__(self) -> None:
        if self.burst < 1 or self.every_seconds < 1:
            raise ValueError(f"bad public post limit: {self.burst}, {self.every_seconds}")

    def describe(self) -> str:
        every = f"one every {self.every_seconds} seconds"
        return f"{self.burst} in a row, then {every}" if self.burst > 1 else every


Handler = Callable[[RequestContext, "Arguments"], Awaitable[Card]]
Prefill = Callable[[RequestContext, "Arguments"], Awaitable[tuple[dict[str, str], dict[str, str]]]]


@dataclass(frozen=True, slots=True)
class Verb:
    name: str
    summary: str  # what it does, for help and Discord's description (at most 100 characters)
    handler: Handler
    options: tuple[Option, ...] = ()
    # Options that bare words after the verb fill, in order (`message show <key>`).
    positional: tuple[str, ...] = ()
    # The option that takes every remaining word (`message add You are loved`).
    rest: str | None = None
    form: Form | None = None
    # (form values, carried options) for an edit form, read from the stored item.
    prefill: Prefill | None = None
    example: str = ""
    # Reached only by a button (`pack apply`): not in help and not a slash command.
    hidden: bool = False
    # Set when the verb posts publicly at once: the router then limits how often each
    # moderator may run it (PostLimiter), before the handler runs.
    posts_publicly: PublicPosts | None = None

    def __post_init__(self) -> None:
        names = [option.name for option in self.options]
        unknown = [n for n in (*self.positional, self.rest or "") if n and n not in names]
        if unknown or len(set(names)) != len(names) or len(self.summary) > DESCRIPTION_MAX:
            raise ValueError(f"verb {self.name}: bad declaration ({unknown or names})")

    def option(self, name: str) -> Option | None:
        """The option called `name` or one of its aliases."""
        for option in self.options:
            if name == option.name or name in option.aliases:
                return option
        return None

    @property
    def shown_options(self) -> tuple[Option, ...]:
        """The options a moderator types (not those a form carries, like `version`)."""
        return tuple(option for option in self.options if not option.hidden)

    def usage(self, group: str) -> str:
        return " ".join((group, self.name, *(option.usage() for option in self.shown_options)))

    def help_line(self, group: str) -> str:
        # The limit is said up front, so a moderator learns it from help, not from a refusal.
        limit = f" ({self.posts_publicly.describe()})" if self.posts_publicly else ""
        return f"{self.usage(group)}  — {self.summary}{limit}"

    def opens_form(self, given: Mapping[str, str]) -> bool:
        """True when this verb, given only `given`, should ask with a form instead."""
        if self.form is None:
            return False

        def has(name: str) -> bool:
            return bool(given.get(name, "").strip())

        if self.form.needs:
            asks = not all(has(name) for name in self.form.needs)
        else:
            asks = not any(has(name) for name in self.form.fields)
        # An edit must know which item: without its key the usage answers, not a blank form.
        outside = [o.name for o in self.options if o.required and o.name not in self.form.fields]
        return asks and all(has(name) for name in outside)


@dataclass(frozen=True, slots=True)
class Arguments:
    """The options of one call, checked against the verb (names, lengths, numbers)."""

    verb: Verb
    values: Mapping[str, str]
    # The community the router's moderator gate checked (its time zone, its settings).
    community: Community | None = None

    def get(self, name: str) -> str | None:
        value = self.values.get(name)
        return value if value is not None and value.strip() else None

    def text(self, name: str, default: str = "") -> str:
        return (self.get(name) or default).strip()

    def number(self, name: str) -> int | None:
        value = self.get(name)
        return int(value.strip().lstrip("#")) if value is not None else None

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None


@dataclass(frozen=True, slots=True)
class VerbTable:
    """One `/support-admin` group: its name, what it is for, and its verbs in help order."""

    name: str
    description: str
    verbs: tuple[Verb, ...]
    # The verb run when only the group is typed (`/support-admin dashboard`); Discord, whose
    # groups need a subcommand, shows it under its own name (`/support-admin dashboard open`).
    default_verb: str | None = None

    def verb(self, name: str) -> Verb | None:
        if not name and self.default_verb:
            name = self.default_verb
        return next((verb for verb in self.verbs if verb.name == name), None)

    @property
    def verb_names(self) -> tuple[str, ...]:
        return tuple(verb.name for verb in self.verbs)

    @property
    def shown_verbs(self) -> tuple[Verb, ...]:
        return tuple(verb for verb in self.verbs if not verb.hidden)

    def help_lines(self) -> tuple[str, ...]:
        return tuple(verb.help_line(self.name) for verb in self.shown_verbs)


# Who ran which public-posting verb where: (community id, moderator id, "group verb").
PostKey = tuple[str, str, str]


class PostLimiter:
    """How often each moderator may run a public-posting verb in each community, in memory.

    One instant per key (the generic cell rate algorithm): the time the next post would be
    free if every allowance were used. A call is allowed while that instant is at most
    `burst - 1` intervals ahead of now. Only moderators who ran such a verb have a key, and a
    key whose allowance is whole again is forgotten: nothing about anyone else is kept, and
    `/support` never comes here.
    """

    # Forget full allowances once this many keys are held (a scan, rarely needed).
    PRUNE_AT = 1024

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._free_at: dict[PostKey, datetime] = {}

    def take(self, key: PostKey, limit: PublicPosts) -> timedelta | None:
        """Use one post of the allowance: None when allowed, else how long until one is.
        Checks and reserves in one step (no await), so concurrent calls cannot both pass."""
        now = self._clock.now()
        interval = timedelta(seconds=limit.every_seconds)
        free_at = max(self._free_at.get(key, now), now)
        ahead = free_at - now - interval * (limit.burst - 1)
        if ahead > timedelta(0):
            return ahead
        self._free_at[key] = free_at + interval
        if len(self._free_at) > self.PRUNE_AT:
            self._free_at = {k: at for k, at in self._free_at.items() if at > now}
        return None

    def give_back(self, key: PostKey, limit: PublicPosts) -> None:
        """Return a post taken by a call that posted nothing (it was refused or failed)."""
        free_at = self._free_at.get(key)
        if free_at is not None:
            self._free_at[key] = free_at - timedelta(seconds=limit.every_seconds)

    @staticmethod
    def seconds(wait: timedelta) -> int:
        """A wait as whole seconds, rounded up: trying again then always works."""
        return max(1, math.ceil(wait.total_seconds()))


_YES = ("yes", "y", "true", "1", "on")
_NO = ("no", "n", "false", "0", "off")


def check_arguments(
    group: str,
    verb: Verb,
    given: Mapping[str, str],
    *,
    community: Community | None = None,
    complete: bool = True,
) -> Arguments:
    """The options of `group verb` by their declared names, or ValidationFailed listing every
    problem at once: an unknown name, a value over its limit (checked first, so nothing slow
    ever reads it), a number or yes/no that is not one, and (when `complete`: not for a form
    about to ask for the rest) a missing required option."""
    usage = f"Usage: /support-admin {verb.usage(group)}"
    problems: list[str] = []
    values: dict[str, str] = {}
    for typed, raw in given.items():
        option = verb.option(typed)
        if option is None:
            listed = ", ".join(o.name for o in verb.shown_options) or "none"
            problems.append(
                f"{typed}: is not an option of {group} {verb.name} (options: {listed})."
            )
            continue
        if option.name in values:
            problems.append(f"{typed}: {option.name} was given twice; give it once.")
            continue
        value = raw if option.kind is OptionKind.PARAGRAPH else raw.strip()
        if len(value) > option.max_length:
            problems.append(
                f"{typed}: is {len(value)} characters; the limit is {option.max_length}."
            )
            continue
        problem = _kind_problem(typed, option, value.strip())
        if problem:
            problems.append(problem)
            continue
        values[option.name] = _normalised(option, value)
    for option in verb.options if complete else ():
        if option.required and not values.get(option.name, "").strip():
            if not any(p.startswith(f"{option.name}:") for p in problems):
                problems.append(f"{option.name}: is required for {group} {verb.name}.")
    if problems:
        hint = usage + (f"\nExample: /support-admin {verb.example}" if verb.example else "")
        raise ValidationFailed(problems, hint)
    return Arguments(verb, values, community)


def _kind_problem(typed: str, option: Option, value: str) -> str | None:
    if not value:
        return None
    if option.kind is OptionKind.NUMBER:
        digits = value.lstrip("#")
        if not (digits.isascii() and digits.isdecimal()):
            return f"{typed}: '{value[:20]}' is not a number."
        number = int(digits)
        if number < option.min_value or (
            option.max_value is not None and number > option.max_value
        ):
            top = f" to {option.max_value}" if option.max_value is not None else " or more"
            return f"{typed}: {number} is out of range ({option.min_value}{top})."
    elif option.kind is OptionKind.YES_NO and value.lower() not in (*_YES, *_NO):
        return f"{typed}: answer yes or no (got '{value[:20]}')."
    elif option.kind is OptionKind.CHOICE and value.lower() not in option.choices:
        return f"{typed}: '{value[:20]}' is not one of {', '.join(option.choices)}."
    return None


def _normalised(option: Option, value: str) -> str:
    if option.kind is OptionKind.NUMBER and value.strip():
        return str(int(value.strip().lstrip("#")))
    if option.kind is OptionKind.YES_NO and value.strip():
        return "yes" if value.strip().lower() in _YES else "no"
    if option.kind is OptionKind.CHOICE:
        return value.strip().lower()
    return value
