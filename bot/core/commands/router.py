"""CommandRouter: one entry point for `/support` and `/support-admin` on every platform.

Adapters call `support`, `admin`, `form` or `run_text` and render what they get back. The router
never raises: a HavenError becomes a clear error card (with the valid choices when there are
some), and anything unexpected becomes an apology card while the details go to the log without
personal data. For `/support-admin` the moderator gate comes first, before the grammar: someone
who may not moderate is told so, not how to write options, and the refusal is audited without
what they typed. A verb that posts publicly (`schedule test`) is then limited per moderator and
community before its handler runs. `/support` has no limit and leaves nothing about the asker.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from bot.core.cards import Card, CardTone, Choice
from bot.core.commands.grammar import ParsedLine, parse_line, quote
from bot.core.commands.verbs import (
    Arguments,
    FormField,
    FormRequest,
    OptionKind,
    PostLimiter,
    Verb,
    VerbTable,
    check_arguments,
)
from bot.core.communities import CommunityService
from bot.core.contact.commands import CONTACT_HELP, ContactCommands
from bot.core.contact.rules import CONTACT_COMMAND
from bot.core.contact.service import ContactAnswer
from bot.core.content.packs import MAX_PACK_BYTES
from bot.core.content.reports import REPORT_COMMAND, ReportService
from bot.core.content.validation import make_mentions_inert
from bot.core.errors import (
    AlreadyExists,
    Conflict,
    HavenError,
    MayHavePosted,
    PermissionDenied,
    StorageUnavailable,
    UnknownChoice,
    ValidationFailed,
)
from bot.core.failures import log_failure
from bot.core.i18n import ENGLISH, N_, Words, translator
from bot.core.locales import SOURCE_LOCALE
from bot.core.models import Community, RequestContext
from bot.core.permissions import NotAModerator, RefusalAudit, moderator_community
from bot.core.ports import Clock, LocalFiles, RefusalLog
from bot.core.support import SupportService
from bot.core.support_errors import support_error_card

log = logging.getLogger(__name__)

SUPPORT_COMMAND = "support"
ADMIN_COMMAND = "support-admin"
SUPPORT_HELP = (
    "/support [topic] [region] — a private message of support and resources for your topic "
    "and country. Only you see the answer.",
    "Examples: /support   /support coming-out   /support crisis GB   "
    "/support topic:harassment region:IE",
)
SUPPORT_OPTIONS = ("topic", "region")
CONTACT_BUTTON = N_("Talk to a moderator")  # translated in the answer's language


class TooSoon(HavenError):
    """A public-posting verb run again before the moderator's allowance came back."""


def error_card(error: HavenError) -> Card:
    if isinstance(error, PermissionDenied):
        title = "Not permitted"
    elif isinstance(error, TooSoon):
        title = "Not yet"
    elif isinstance(error, AlreadyExists):
        title = "Already in the library"
    elif isinstance(error, Conflict):
        title = "Changed since you opened it"
    else:
        title = "That didn't work"
    choices: tuple[Choice, ...] = ()
    heading = ""
    if isinstance(error, UnknownChoice):
        heading = error.heading
        # The list is carried once, as choices (closest first), which every platform shows;
        # the hint only names the closest ("Did you mean coming-out?") and never repeats it.
        choices = tuple(
            Choice(label=error.label(value), value=value) for value in error.choices[:25]
        )
    return Card(
        title=title,
        body=make_mentions_inert(error.message),
        footer=make_mentions_inert(error.hint),
        tone=CardTone.ERROR,
        choices=choices,
        choices_label=heading if choices else "",
    )


SOMETHING_WENT_WRONG = Card(
    title="Something went wrong on our side",
    body="Sorry, Haven could not finish that. Nothing was half-changed; please try again.",
    tone=CardTone.ERROR,
)


def person_error_card(error: HavenError, words: Words) -> Card:
    """error_card for a person (the contact line): the core already wrote the message and
    hint in their words; the title and the renderer's words follow them too."""
    card = error_card(error)
    if words.locale == SOURCE_LOCALE:
        return card
    return replace(card, title=words.gettext("That didn't work"), locale=words.locale)


def person_went_wrong(words: Words) -> Card:
    if words.locale == SOURCE_LOCALE:
        return SOMETHING_WENT_WRONG
    return replace(
        SOMETHING_WENT_WRONG,
        title=words.gettext("Something went wrong on our side"),
        body=words.gettext(
            "Sorry, Haven could not finish that. Nothing was half-changed; please try again."
        ),
        locale=words.locale,
    )


@dataclass(frozen=True, slots=True)
class AdminLine:
    """A typed `/support-admin` line, read against its verb's declaration."""

    group: str
    verb: str
    options: dict[str, str]
    notes: tuple[str, ...] = ()


class CommandRouter:
    def __init__(
        self,
        support: SupportService,
        communities: CommunityService,
        tables: Sequence[VerbTable],
        *,
        clock: Clock,
        refusals: RefusalLog,
        reports: ReportService | None = None,
        contact: ContactCommands | None = None,
    ) -> None:
        self._support = support
        self._reports = reports
        self._contact = contact
        self._communities = communities
        self._tables: dict[str, VerbTable] = {table.name: table for table in tables}
        self._posts = PostLimiter(clock)
        self._refusals = RefusalAudit(refusals, clock)

    def add_table(self, table: VerbTable) -> None:
        self._tables[table.name] = table

    @property
    def tables(self) -> Mapping[str, VerbTable]:
        return self._tables

    # ---- /support --------------------------------------------------------------------------

    async def support(
        self,
        ctx: RequestContext,
        topic: str | None = None,
        region: str | None = None,
        message_key: str | None = None,
    ) -> Card:
        try:
            await self._communities.ensure_for_context(ctx)
            card = await self._support.reply(ctx, topic, region, message_key)
            return await self._offer_contact(ctx, card)
        except UnknownChoice as error:
            card = error_card(error)
            card = replace(card, footer=card.footer or "Or just type /support for general support.")
            community = await self._support.community(ctx.community_id)
            words = translator(self._support.locale_for(ctx, community))
            return support_error_card(error, words, card)
        except StorageUnavailable:
            # Storage has told the operator already; the person asking still gets help.
            return await self._support.fallback_card(
                topic, region, ctx.community_id, locale=ctx.locale
            )
        except HavenError as error:
            return error_card(error)
        except Exception as error:
            # No request details in the log: they could say who asked for what.
            log_failure(log, "Answering /support (serving the built-in answer)", error)
            return await self._support.fallback_card(
                topic, region, ctx.community_id, locale=ctx.locale
            )

    async def _offer_contact(self, ctx: RequestContext, card: Card) -> Card:
        """A /support answer offers "Talk to a moderator" where the community has an inbox."""
        if self._contact is None or card.tone is not CardTone.SUPPORT:
            return card
        try:
            offered = await self._contact.service.offers(ctx.community_id)
        except Exception as error:
            # The answer matters more than the button: it goes out without it.
            log_failure(log, "Reading the contact settings for a /support answer", error)
            return card
        if not offered:
            return card
        label = translator(card.locale).gettext(CONTACT_BUTTON)
        return replace(card, actions=(*card.actions, Choice(label, f"/{CONTACT_COMMAND}")))

    async def contact(self, ctx: RequestContext, line: str) -> ContactAnswer:
        """A person's `/support-contact` line: the answer to show, and the card holding their
        key (for their DM). Never raises; an error is the answer."""
        if self._contact is None:
            return ContactAnswer(error_card(HavenError("Talking to a moderator is not available.")))
        words = ENGLISH
        try:
            await self._communities.ensure_for_context(ctx)
            words = await self._contact.service.words_for(ctx)
            return await self._contact.run(ctx, line)
        except HavenError as error:
            return ContactAnswer(person_error_card(error, words))
        except Exception as error:
            log_failure(log, "Handling a /support-contact line", error)
            return ContactAnswer(person_went_wrong(words))

    async def contact_precheck(self, ctx: RequestContext, verb: str) -> Card | None:
        """Before showing the form of `/support-contact <verb>`: None to show it, else the
        card saying why it would be refused (no inbox here, too soon...)."""
        if self._contact is None:
            return error_card(HavenError("Talking to a moderator is not available."))
        words = ENGLISH
        try:
            await self._communities.ensure_for_context(ctx)
            words = await self._contact.service.words_for(ctx)
            await self._contact.precheck(ctx, verb)
        except HavenError as error:
            return person_error_card(error, words)
        except Exception as error:
            log_failure(log, "Checking a /support-contact form", error)
            return person_went_wrong(words)
        return None

    async def contact_words(self, ctx: RequestContext) -> Words:
        """Haven's words for this person's contact form (its title and labels), for
        adapters that draw the form themselves."""
        if self._contact is None:
            return ENGLISH
        return await self._contact.service.words_for(ctx)

    async def report(self, ctx: RequestContext, key: str, kind: str) -> Card:
        """A person's report on a resource of an answer ("this number didn't work"). Like
        /support, it leaves nothing about who sent it, and the answer is only theirs."""
        if self._reports is None:
            return error_card(HavenError("Reports are not available here."))
        try:
            await self._communities.ensure_for_context(ctx)
            return await self._reports.report(ctx, key, kind)
        except HavenError as error:
            return error_card(error)
        except Exception as error:
            log_failure(log, "Counting a report on a resource", error)
            return SOMETHING_WENT_WRONG

    # ---- /support-admin --------------------------------------------------------------------

    async def admin(
        self, ctx: RequestContext, group: str, verb: str, options: Mapping[str, str]
    ) -> Card:
        """Run `group verb` with options as the platforms give them (Discord options, a form's
        fields, a button's line): the gate, then the verb's checks, then its handler."""
        try:
            community = await self._gate(ctx, group, verb)
            return await self._run(ctx, community, group, verb, options)
        except HavenError as error:
            return error_card(error)
        except Exception as error:
            log_failure(log, f"/support-admin {group} {verb}", error)
            return SOMETHING_WENT_WRONG

    async def form(
        self, ctx: RequestContext, group: str, verb: str, options: Mapping[str, str]
    ) -> FormRequest | Card | None:
        """What `group verb` given only `options` should do before it runs: a form to show
        (prefilled for an edit), a card instead (refused, unknown item), or None: just run it.
        Asked before opening a form, so nobody types a long text only to be refused."""
        try:
            community = await self._gate(ctx, group, verb)
            return await self._form(ctx, community, group, verb, options)
        except HavenError as error:
            return error_card(error)
        except Exception as error:
            log_failure(log, f"Opening the form of /support-admin {group} {verb}", error)
            return SOMETHING_WENT_WRONG

    async def _run(
        self,
        ctx: RequestContext,
        community: Community,
        group: str,
        verb: str,
        options: Mapping[str, str],
    ) -> Card:
        spec = self._verb(group, verb)
        if spec is None:
            return self._group_help(group)
        args = check_arguments(group, spec, options, community=community)
        return await self._run_verb(ctx, group, spec, args)

    async def _form(
        self,
        ctx: RequestContext,
        community: Community,
        group: str,
        verb: str,
        options: Mapping[str, str],
    ) -> FormRequest | None:
        spec = self._verb(group, verb)
        if spec is None or spec.form is None:
            return None
        # Checked first, so an alias (topic: for topics:) counts as the option it names.
        args = check_arguments(group, spec, options, community=community, complete=False)
        if not spec.opens_form(args.values):
            return None
        values, carried = await spec.prefill(ctx, args) if spec.prefill else ({}, {})
        fields = tuple(
            FormField(option, values.get(option.name) or args.text(option.name))
            for option in (spec.option(name) for name in spec.form.fields)
            if option is not None
        )
        kept = {k: v for k, v in args.values.items() if k not in spec.form.fields}
        return FormRequest(group, spec.name, spec.form.title, fields, {**kept, **carried})

    async def _gate(self, ctx: RequestContext, group: str, verb: str) -> Community:
        """The one moderator rule for every platform and every entry (command, form, button),
        checked on every call, whatever the platform's own command permissions say. Someone
        refused in a community is audited by the declared command they tried, never by what
        they typed (`group` and `verb` are only matched against the tables)."""
        await self._communities.ensure_for_context(ctx)
        try:
            return await moderator_community(self._communities, ctx)
        except NotAModerator:
            command = self._declared_name(group, verb)
            # Only a declared command is audited: someone who typed /support-admin with words
            # (often meaning /support) must not be kept with a time beside their id.
            if command is not None:
                try:
                    await self._refusals.record(ctx, command)
                except Exception as error:
                    # The refusal stands whether or not it could be written down.
                    log_failure(log, "Auditing a refused /support-admin call", error)
            raise

    def _declared_name(self, group: str, verb: str) -> str | None:
        """`message add` for a declared verb; None for anything that is not in a table."""
        table = self._tables.get(group.strip().lower())
        spec = table.verb(verb.strip().lower()) if table is not None else None
        return f"{table.name} {spec.name}" if table is not None and spec is not None else None

    async def _run_verb(self, ctx: RequestContext, group: str, spec: Verb, args: Arguments) -> Card:
        """The handler, after the public-post allowance for a verb that posts publicly."""
        limit = spec.posts_publicly
        if limit is None:
            return await spec.handler(ctx, args)
        key = (ctx.community_id, ctx.actor.id, f"{group.strip().lower()} {spec.name}")
        wait = self._posts.take(key, limit)
        if wait is not None:
            seconds = PostLimiter.seconds(wait)
            raise TooSoon(
                f"{group.strip().lower()} {spec.name} posts in a public channel, so each "
                f"moderator can run it {limit.describe()}. Try again in {seconds} "
                f"second{'' if seconds == 1 else 's'}.",
                "Nothing was posted.",
            )
        try:
            return await spec.handler(ctx, args)
        except MayHavePosted:
            raise  # it may be in the channel: the allowance is spent
        except HavenError:
            # Refused or failed with nothing posted: the moderator keeps that post.
            self._posts.give_back(key, limit)
            raise

    def _verb(self, group_name: str, verb_name: str) -> Verb | None:
        """The verb, None for a group's help, or UnknownChoice with the closest commands."""
        group_name, verb_name = group_name.strip().lower(), verb_name.strip().lower()
        if group_name in ("", "help"):
            return None
        table = self._tables.get(group_name)
        if table is None:
            raise UnknownChoice(
                "command group",
                group_name,
                _closest(group_name, list(self._tables)),
                hint="Type /support-admin help for every command.",
                kind="command groups",
            )
        if verb_name == "help" or (verb_name == "" and table.default_verb is None):
            return None
        verb = table.verb(verb_name)
        if verb is None:
            raise UnknownChoice(
                f"{table.name} command",
                verb_name,
                _closest(verb_name, [verb.name for verb in table.shown_verbs]),
                hint="Usage:\n" + "\n".join(f"/support-admin {h}" for h in table.help_lines()),
                kind="commands",
            )
        return verb

    def _group_help(self, group: str) -> Card:
        table = self._tables.get(group.strip().lower())
        if table is None:
            return self.help_card()
        return Card(
            title=f"/support-admin {table.name}: {table.description}",
            lines=tuple(f"/support-admin {line}" for line in table.help_lines()),
            footer=_GRAMMAR_HINT,
        )

    # ---- the text grammar ------------------------------------------------------------------

    async def run_text(
        self, ctx: RequestContext, line: str, files: LocalFiles | None = None
    ) -> Card:
        """Run one line of the text grammar (console, Slack, and button values). `files` is
        where a FILE option is read from and a SAVE_AS option written to (the console's disk);
        without it those options are refused with what to do instead."""
        answer = await self._text(ctx, line, files, forms=False)
        assert isinstance(answer, Card)
        return answer

    async def open_or_run_text(self, ctx: RequestContext, line: str) -> FormRequest | Card:
        """`run_text` for a platform that can show forms (Slack): the form a line asks for
        (`/support-admin message add` alone), else its answer; through the gate once."""
        return await self._text(ctx, line, None, forms=True)

    async def _text(
        self, ctx: RequestContext, line: str, files: LocalFiles | None, *, forms: bool
    ) -> FormRequest | Card:
        command = line.strip().split(maxsplit=1)[0].lstrip("/").lower() if line.strip() else ""
        if command in ("", "help"):
            return self.help_card(include_admin=not ctx.in_direct_message)
        if command == SUPPORT_COMMAND:
            return await self._run_support_text(ctx, line)
        if command == REPORT_COMMAND:
            return await self._run_report_text(ctx, line)
        if command == CONTACT_COMMAND:
            return (await self.contact(ctx, line)).as_card()
        if command != ADMIN_COMMAND:
            suggestions = _closest(command, [SUPPORT_COMMAND, ADMIN_COMMAND, "help"])
            return error_card(
                UnknownChoice("command", line.split()[0], [f"/{s}" for s in suggestions[:3]])
            )
        try:
            community = await self._gate(ctx, *_group_and_verb(line))
            parsed = self._read_admin_line(line)
            if parsed is None:
                words = line.split()
                return self._group_help(words[1]) if len(words) > 1 else self.help_card()
            form = None
            if forms:
                form = await self._form(ctx, community, parsed.group, parsed.verb, parsed.options)
            if form is not None:
                return form
            spec = self._verb(parsed.group, parsed.verb)
            assert spec is not None
            options = _read_files(spec, parsed.options, files)
            card = await self._run(ctx, community, parsed.group, parsed.verb, options)
            card = _save_attachment(spec, parsed.options, card, files)
        except HavenError as error:
            return error_card(error)
        except Exception as error:
            # Like admin() and support(): one bad line never ends a console session.
            log_failure(log, "Running a /support-admin line", error)
            return SOMETHING_WENT_WRONG
        if parsed.notes and card.tone is not CardTone.ERROR:
            card = replace(card, footer=" ".join((*parsed.notes, card.footer)).strip())
        return card

    async def _run_support_text(self, ctx: RequestContext, line: str) -> Card:
        try:
            parsed = parse_line(line, rest_options=(), known_options=SUPPORT_OPTIONS)
        except HavenError as error:
            return error_card(error)
        words = list(parsed.words)
        if words[:1] == ["help"]:
            return Card(title="How /support works", lines=SUPPORT_HELP)
        unknown = [name for name in parsed.options if name not in SUPPORT_OPTIONS]
        if unknown or len(words) > 2:
            return error_card(
                HavenError(
                    "/support takes a topic and a region, nothing else.",
                    "Example: /support coming-out GB",
                )
            )
        topic = parsed.options.get("topic") or (words[0] if words else None)
        region = parsed.options.get("region") or (words[1] if len(words) > 1 else None)
        return await self.support(ctx, topic, region)

    async def _run_report_text(self, ctx: RequestContext, line: str) -> Card:
        words = line.split()[1:]
        if len(words) != 2:
            return error_card(
                HavenError(
                    f"/{REPORT_COMMAND} takes a resource key and what is wrong "
                    "(number, link or hours).",
                    f"Example: /{REPORT_COMMAND} gb-samaritans number",
                )
            )
        return await self.report(ctx, words[0], words[1])

    def _read_admin_line(self, line: str) -> AdminLine | None:
        """Group, verb and options of a typed line, positional words and a verb's rest text
        placed by its declaration. None for help. Raises HavenError with a hint that quotes
        the value when words were left over after an option."""
        head = line.split(maxsplit=3)
        group = head[1].lower() if len(head) > 1 else ""
        verb_name = head[2].lower() if len(head) > 2 else ""
        spec = self._verb(group, verb_name)
        if spec is None:
            return None
        known = [name for option in spec.options for name in (option.name, *option.aliases)]
        parsed = parse_line(
            line, rest_options=(spec.rest,) if spec.rest else (), known_options=known
        )
        options = _place_words(group, spec, parsed)
        return AdminLine(group, spec.name, options, parsed.notes)

    def help_card(self, include_admin: bool = True) -> Card:
        lines = list(SUPPORT_HELP)
        if self._contact is not None:
            lines.extend(CONTACT_HELP)
        if include_admin:
            lines.append("")
            lines.append("Moderators: /support-admin <group> <command> name:value ...")
            for table in self._tables.values():
                lines.extend(f"  /support-admin {line}" for line in table.help_lines())
            lines.append(_GRAMMAR_HINT)
        return Card(title="Haven help", lines=tuple(lines))


_GRAMMAR_HINT = (
    'Values with spaces go in quotes (when:"daily 09:00"); the words after a message command '
    "are its text."
)


_NO_FILES = HavenError(
    "Only the console can read or write files on this machine.",
    'On Discord, attach the file to the command; on Slack, paste it as content:"...".',
)


def _read_files(verb: Verb, options: Mapping[str, str], files: LocalFiles | None) -> dict[str, str]:
    """A FILE option's path replaced by the file's text (`content`) and name (`filename`)."""
    out = dict(options)
    for option in verb.options:
        path = out.get(option.name, "").strip()
        if option.kind is not OptionKind.FILE or not path:
            continue
        if files is None:
            raise _NO_FILES
        del out[option.name]
        out["filename"], out["content"] = files.read_text(path, MAX_PACK_BYTES)
    return out


def _save_attachment(
    verb: Verb, options: Mapping[str, str], card: Card, files: LocalFiles | None
) -> Card:
    """The answer's file written where a SAVE_AS option says, instead of being shown."""
    target = next(
        (
            options[o.name]
            for o in verb.options
            if o.kind is OptionKind.SAVE_AS and options.get(o.name)
        ),
        None,
    )
    if target is None or card.attachment is None:
        return card
    if files is None:
        raise _NO_FILES
    written = files.write_bytes(target.strip(), card.attachment.content)
    return replace(card, attachment=None, footer=f"Written to {written}.")


def _group_and_verb(line: str) -> tuple[str, str]:
    """The second and third words of a `/support-admin` line (either may be empty)."""
    head = line.split(maxsplit=3)
    return (head[1] if len(head) > 1 else "", head[2] if len(head) > 2 else "")


def _closest(given: str, names: Sequence[str]) -> list[str]:
    """Every name, the closest to what was typed first (ties in declaration order)."""
    ratio = {name: difflib.SequenceMatcher(None, given, name).ratio() for name in names}
    return sorted(names, key=lambda name: -ratio[name])


def _place_words(group: str, verb: Verb, parsed: ParsedLine) -> dict[str, str]:
    """Give bare words to the verb's positional options, then to its rest option; words left
    after an option mean its value had spaces and no quotes: say so with the line to copy."""
    options = dict(parsed.options)
    waiting = [name for name in verb.positional if name not in options]
    rest: list[str] = []
    # The line as typed, with each left-over word joined to the option it followed.
    retyped: list[tuple[str | None, list[str]]] = [
        (None, [f"/{ADMIN_COMMAND} {group} {verb.name}"])
    ]
    left_over: list[str] = []  # the options whose value had unquoted spaces
    after: str | None = None
    for token in parsed.tokens[2:]:  # after the group and verb words
        if token.name is not None:
            after = token.name
            retyped.append((token.name, [token.value]))
        elif waiting and not rest:
            options[waiting.pop(0)] = token.value
            retyped.append((None, [quote(token.value)]))
        elif verb.rest and verb.rest not in parsed.options:
            rest.append(token.value)
            retyped.append((None, [quote(token.value) if token.quoted else token.value]))
        elif after is None:
            raise ValidationFailed(
                [f"I did not understand '{token.value[:80]}'."],
                f"Usage: /support-admin {verb.usage(group)}",
            )
        else:
            retyped[-1][1].append(token.value)
            if after not in left_over:
                left_over.append(after)
    if rest:
        options[verb.rest or ""] = " ".join(rest)
    if left_over:
        line = " ".join(
            f"{name}:{quote(' '.join(values))}" if name else " ".join(values)
            for name, values in retyped
        )
        named = ", ".join(f"{name}:" for name in left_over)
        raise ValidationFailed(
            [f"{named} a value with spaces needs quotes around it."],
            f"Try:\n{line}",
        )
    return options
