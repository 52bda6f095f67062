"""What the contact line shows: the moderators' inbox message and the person's private cards.

The inbox card never names an anonymous sender (there is nothing to name it with); the
person's cards carry their reply key in the buttons' command lines, and in words for
platforms without buttons, because the person is the only one who holds it.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.cards import Card, CardTone, Choice
from bot.core.contact.rules import (
    THREAD_SHOWN,
    RequestKind,
    RequestStatus,
    moderator_line,
    person_line,
)
from bot.core.content.validation import make_mentions_inert
from bot.core.i18n import ENGLISH, Words
from bot.core.locales import SOURCE_LOCALE
from bot.core.ports import ContactLine, ContactRow

_ANONYMOUS_SENDER = "Anonymous: nobody, Haven included, can tell who sent this."
_TITLES = {
    RequestKind.ANONYMOUS: "Request #{n}",
    RequestKind.MYSELF: "Request #{n}",
    RequestKind.CHECK_IN: "Request #{n}: someone asked for a check-in",
}


def _line_text(line: ContactLine) -> str:
    who = "Sender" if line.from_person else f"Moderator {line.moderator_name or ''}".strip()
    return make_mentions_inert(f"{who}: {line.text}")


def inbox_card(row: ContactRow, thread: Sequence[ContactLine]) -> Card:
    kind = RequestKind(row.kind)
    status = RequestStatus(row.status)
    title = _TITLES[kind].format(n=row.number)
    if status is RequestStatus.DELETED:
        return Card(
            title=title,
            body="Deleted by the sender. Its text and replies are gone.",
            tone=CardTone.INFO,
            fields=(("Status", "Deleted by the sender"),),
        )
    if kind is RequestKind.MYSELF:
        sender = make_mentions_inert(f"{row.sender_name or 'someone'} (id {row.sender_id})")
    else:
        sender = _ANONYMOUS_SENDER
    body = make_mentions_inert(row.text) if row.text else "(no text: a one-click check-in)"
    if kind is RequestKind.CHECK_IN:
        body = (
            "Someone in this server asked for a check-in. They were shown crisis resources "
            "at once. Reply to let them know someone is there.\n\n" + body
        )
    hidden = len(thread) - THREAD_SHOWN
    lines = tuple(_line_text(line) for line in thread[-THREAD_SHOWN:])
    if hidden > 0:
        lines = (f"… {hidden} earlier message{'s' if hidden != 1 else ''}", *lines)
    actions: tuple[Choice, ...] = ()
    if status is RequestStatus.OPEN:
        actions = (
            Choice("Reply", moderator_line("reply", row.number)),
            Choice("Close", moderator_line("close", row.number)),
        )
        if kind.anonymous:
            actions += (Choice("Block sender", moderator_line("block", row.number)),)
    return Card(
        title=title,
        body=body,
        tone=CardTone.INFO,
        fields=(("From", sender), ("Status", status.value.title())),
        lines=lines,
        actions=actions,
        footer="Replies reach the sender privately. Moderator actions are audited.",
    )


def _person_actions(token: str, words: Words, *, open_: bool) -> tuple[Choice, ...]:
    actions = [Choice(words.gettext("Read replies"), person_line("open", token))]
    if open_:
        actions += [
            Choice(words.gettext("Answer"), person_line("answer", token)),
            Choice(words.gettext("Close"), person_line("close", token)),
        ]
    actions.append(Choice(words.gettext("Delete"), person_line("delete", token)))
    return tuple(actions)


def keep_card(number: int, token: str, kind: RequestKind, words: Words = ENGLISH) -> Card:
    """The card only the person gets (a DM; else shown once to them): their way back."""
    who = (
        words.gettext("The moderators can see your name on it.")
        if kind is RequestKind.MYSELF
        else words.gettext(
            "The moderators do not know who sent it, and Haven keeps nothing that could say."
        )
    )
    return Card(
        title=words.gettext("Your request #{n} reached the moderators").format(n=number),
        body=who
        + " "
        + words.gettext(
            "Keep this message: its buttons are the only way back to your request, to "
            "read replies, answer, close or delete it. Haven cannot show them to you again."
        ),
        tone=CardTone.SUCCESS,
        fields=((words.gettext("Your key"), token),),
        actions=_person_actions(token, words, open_=True),
        footer=words.gettext("Without buttons: {line} with the key above.").format(
            line=person_line("open", "<key>")
        ),
        locale=words.locale,
    )


def person_view(
    row: ContactRow, thread: Sequence[ContactLine], token: str, words: Words = ENGLISH
) -> Card:
    status = RequestStatus(row.status)
    you, moderator = words.gettext("You"), words.gettext("Moderator")
    lines = tuple(
        make_mentions_inert(f"{you if line.from_person else moderator}: {line.text}")
        for line in thread
    )
    replied = any(not line.from_person for line in thread)
    title = (
        words.gettext("Your request #{n}")
        if status is RequestStatus.OPEN
        else words.gettext("Your request #{n} (closed)")
    )
    return Card(
        title=title.format(n=row.number),
        body=make_mentions_inert(row.text) if row.text else words.gettext("(a check-in, no text)"),
        tone=CardTone.INFO,
        lines=lines
        or (words.gettext("No reply yet. Haven tells you when a moderator answers, if it can."),),
        actions=_person_actions(token, words, open_=status is RequestStatus.OPEN),
        footer=""
        if replied or status is not RequestStatus.OPEN
        else words.gettext("Only you see this."),
        locale=words.locale,
    )


def reply_notice(number: int, text: str, words: Words = ENGLISH) -> Card:
    """The DM a person gets when a moderator replies (while Haven knows who they are)."""
    return Card(
        title=words.gettext("A moderator replied to your request #{n}").format(n=number),
        body=make_mentions_inert(text),
        tone=CardTone.INFO,
        footer=words.gettext(
            "Answer with the buttons on Haven's first message about this request."
        ),
        locale=words.locale,
    )


def closed_notice(number: int, words: Words = ENGLISH) -> Card:
    return Card(
        title=words.gettext("Your request #{n} was closed by a moderator").format(n=number),
        body=words.gettext("You can still read it with your buttons until it is deleted."),
        tone=CardTone.INFO,
        locale=words.locale,
    )


def choose_card(struggling: bool, words: Words = ENGLISH) -> Card:
    """The first step: how to write. Each action is the line that opens (or, for a check-in,
    sends) it; text platforms type the line with the text after it."""
    actions = [
        Choice(words.gettext("Write anonymously"), person_line("anonymous")),
        Choice(words.gettext("Write as myself"), person_line("myself")),
    ]
    if struggling:
        actions.append(Choice(words.gettext("I'm struggling right now"), person_line("struggling")))
    body = words.gettext(
        "Anonymously: the moderators read what you write but never learn who wrote it; "
        "Haven keeps nothing that could say. As yourself: they see your name, useful when "
        "you want them to act on something. Either way only moderators see it, and only "
        "you see their replies."
    )
    if struggling:
        body += "\n\n" + words.gettext(
            "I'm struggling right now: one click tells the moderators someone asked "
            "for a check-in (nothing else), and shows you crisis lines at once."
        )
    return Card(
        title=words.gettext("Talk to a moderator"),
        body=body,
        tone=CardTone.INFO,
        actions=tuple(actions),
        footer=words.gettext("Typing instead: {line} <what you want to say>").format(
            line=person_line("anonymous")
        ),
        locale=words.locale,
    )


def confirm_delete(number: int, token: str, words: Words = ENGLISH) -> Card:
    return Card(
        title=words.gettext("Delete request #{n} for good?").format(n=number),
        body=words.gettext(
            "Its text and every reply are deleted from Haven at once, and the moderators' "
            "inbox will say it was deleted by the sender. This cannot be undone."
        ),
        tone=CardTone.INFO,
        actions=(
            Choice(words.gettext("Delete for good"), person_line("erase", token)),
            Choice(words.gettext("Keep it"), person_line("open", token)),
        ),
        footer=words.gettext("Without buttons: {line}").format(line=person_line("erase", "<key>")),
        locale=words.locale,
    )


def done(title: str, body: str = "", footer: str = "", locale: str = SOURCE_LOCALE) -> Card:
    """A success card; the caller translates its words (a person's) or not (a moderator's),
    and `locale` lets the renderer's own words follow."""
    return Card(title=title, body=body, tone=CardTone.SUCCESS, footer=footer, locale=locale)
