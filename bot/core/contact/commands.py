"""The contact line's commands: a person's `/support-contact` lines, the moderators'
`/support-admin contact` verbs, and the two settings (`contact-inbox`, `contact-struggling`).

A person's line: `/support-contact anonymous <text>`, `myself <text>`, `struggling [text]`,
and, with the key Haven gave them, `open <key>`, `answer <key> <text>`, `close <key>`,
`delete <key>` (asks first; `erase <key>` deletes). Buttons carry these same lines, so every
platform runs one path.
"""

from __future__ import annotations

import logging

from bot.core.cards import Card
from bot.core.commands.verbs import Arguments, Form, Option, OptionKind, Verb, VerbTable
from bot.core.contact.rules import CONTACT_COMMAND, CONTACT_GROUP, TEXT_MAX, RequestKind
from bot.core.contact.service import ContactAnswer, ContactService
from bot.core.errors import HavenError
from bot.core.i18n import ENGLISH, N_, Words
from bot.core.models import RequestContext

log = logging.getLogger(__name__)

STARTS = {
    "anonymous": RequestKind.ANONYMOUS,
    "myself": RequestKind.MYSELF,
    "struggling": RequestKind.CHECK_IN,
}
WITH_KEY = ("open", "answer", "close", "delete", "erase")
PERSON_VERBS = (*STARTS, *WITH_KEY)

# Marked for translation with the command as a field, so the command's name lives in rules.py.
_HELP_LINES = (
    N_("{command} anonymous <text> — write to the moderators; they never learn who wrote."),
    N_("{command} myself <text> — write to the moderators as yourself (they see your name)."),
    N_("{command} struggling [text] — ask for a check-in, if this community offers it."),
    N_("{command} open|answer|close|delete <key> [text] — your request, with your key."),
    N_("{command} erase <key> — delete it for good, at once (delete asks first)."),
)


def help_lines(words: Words = ENGLISH) -> tuple[str, ...]:
    return tuple(words.gettext(line).format(command=f"/{CONTACT_COMMAND}") for line in _HELP_LINES)


CONTACT_HELP = help_lines()  # English, for /support-admin's help


def help_card(words: Words = ENGLISH) -> Card:
    return Card(
        title=words.gettext("Talk to a moderator"), lines=help_lines(words), locale=words.locale
    )


def _rest(text: str) -> str:
    """The text as typed, without one pair of surrounding quotes."""
    value = text.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return value


class ContactCommands:
    def __init__(self, service: ContactService) -> None:
        self.service = service
        number = Option(
            "number",
            "The request's number (#12)",
            OptionKind.NUMBER,
            required=True,
            placeholder="12",
        )
        reply_text = Option(
            "text",
            "Your reply (the sender reads it privately)",
            OptionKind.PARAGRAPH,
            required=True,
            max_length=TEXT_MAX,
            placeholder='"Thank you for writing…"',
        )
        self.table = VerbTable(
            CONTACT_GROUP,
            "Requests people sent to the moderator inbox",
            (
                Verb(
                    "reply",
                    "answer a request privately (the sender reads it; audited)",
                    self._reply,
                    options=(number, reply_text),
                    positional=("number",),
                    rest="text",
                    form=Form("Reply to the request", ("text",), needs=("text",)),
                    example="contact reply 12 Thank you for telling us.",
                ),
                Verb(
                    "close",
                    "close a request (audited)",
                    self._close,
                    options=(number,),
                    positional=("number",),
                    example="contact close 12",
                ),
                Verb(
                    "block",
                    "stop an anonymous sender writing again, without learning who (audited)",
                    self._block,
                    options=(number,),
                    positional=("number",),
                    example="contact block 12",
                ),
                Verb("list", "the open requests", self._list),
                Verb("audit", "what moderators did with requests", self._audit),
            ),
        )
        self.settings_verbs: tuple[Verb, ...] = (
            Verb(
                "contact-inbox",
                "the private channel where requests to the moderators arrive (none: off)",
                self._inbox,
                options=(
                    Option(
                        "channel",
                        "#channel, or none",
                        OptionKind.CHANNEL,
                        required=True,
                        placeholder="#mod-inbox",
                    ),
                ),
                positional=("channel",),
                example="settings contact-inbox channel:#mod-inbox",
            ),
            Verb(
                "contact-struggling",
                'offer the one-click "I\'m struggling right now" alert (yes or no)',
                self._struggling,
                options=(
                    Option(
                        "allow", "yes or no", OptionKind.YES_NO, required=True, placeholder="yes"
                    ),
                ),
                positional=("allow",),
                example="settings contact-struggling yes",
            ),
        )

    # ---- a person's lines --------------------------------------------------------------------

    async def run(self, ctx: RequestContext, line: str) -> ContactAnswer:
        """One `/support-contact` line. Raises HavenError (the router makes it a card)."""
        words = line.strip().split(maxsplit=1)
        rest = words[1] if len(words) > 1 else ""
        verb, _, after = rest.strip().partition(" ")
        verb = verb.lower()
        if verb == "help":
            return ContactAnswer(help_card(await self.service.words_for(ctx)))
        if verb == "":
            return ContactAnswer(await self.service.choices(ctx))
        if verb in STARTS:
            return await self.service.start(ctx, STARTS[verb], _rest(after))
        if verb in WITH_KEY:
            key, _, text = after.strip().partition(" ")
            if not key:
                say = await self.service.words_for(ctx)
                line = f"/{CONTACT_COMMAND} {verb}"
                raise HavenError(
                    say.gettext("{line} needs the key Haven gave you.").format(line=line),
                    say.gettext(
                        "Example: {line} <key>. The buttons on Haven's message about your "
                        "request do this for you."
                    ).format(line=line),
                )
            if verb == "open":
                return ContactAnswer(await self.service.open(ctx, key))
            if verb == "answer":
                return ContactAnswer(await self.service.answer(ctx, key, _rest(text)))
            if verb == "close":
                return ContactAnswer(await self.service.close_by_person(ctx, key))
            if verb == "delete":
                return ContactAnswer(await self.service.confirm_delete(ctx, key))
            return ContactAnswer(await self.service.delete_by_person(ctx, key))
        say = await self.service.words_for(ctx)
        raise HavenError(
            say.gettext("{command} does not know '{verb}'.").format(
                command=f"/{CONTACT_COMMAND}", verb=verb[:30]
            ),
            "\n".join(help_lines(say)),
        )

    async def precheck(self, ctx: RequestContext, verb: str) -> None:
        """Raise what starting `verb` (anonymous, myself, struggling) would refuse before any
        text is typed; the adapter asks this before showing its form."""
        await self.service.precheck(ctx, STARTS.get(verb, RequestKind.ANONYMOUS))

    # ---- moderators ----------------------------------------------------------------------

    async def _reply(self, ctx: RequestContext, args: Arguments) -> Card:
        return await self.service.reply(ctx, args.number("number") or 0, args.text("text"))

    async def _close(self, ctx: RequestContext, args: Arguments) -> Card:
        return await self.service.close(ctx, args.number("number") or 0)

    async def _block(self, ctx: RequestContext, args: Arguments) -> Card:
        return await self.service.block(ctx, args.number("number") or 0)

    async def _list(self, ctx: RequestContext, args: Arguments) -> Card:
        return await self.service.list_open(ctx)

    async def _audit(self, ctx: RequestContext, args: Arguments) -> Card:
        return await self.service.audit(ctx)

    async def settings_fields(self, community_id: str) -> tuple[tuple[str, str], ...]:
        """The contact line's settings as `settings show` lists them."""
        settings = await self.service.settings(community_id)
        return (
            ("Moderator inbox", settings.inbox_channel_id or "none (the contact line is off)"),
            ("Check-ins", "offered" if settings.struggling_enabled else "off"),
        )

    async def _inbox(self, ctx: RequestContext, args: Arguments) -> Card:
        return await self.service.set_inbox(ctx, args.text("channel"))

    async def _struggling(self, ctx: RequestContext, args: Arguments) -> Card:
        return await self.service.set_struggling(ctx, args.text("allow"))
