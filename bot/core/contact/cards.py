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


def _person_actions(token: str, *, open_: bool) -> tuple[Choice, ...]:
    actions = [Choice("Read replies", person_line("open", token))]
    if open_:
        actions += [
            Choice("Answer", person_line("answer", token)),
            Choice("Close", person_line("close", token)),
        ]
    actions.append(Choice("Delete", person_line("delete", token)))
    return tuple(actions)


def keep_card(number: int, token: str, kind: RequestKind) -> Card:
    """The card only the person gets (a DM; else shown once to them): their way back."""
    who = (
        "The moderators can see your name on it."
        if kind is RequestKind.MYSELF
        else "The moderators do not know who sent it, and Haven keeps nothing that could say."
    )
    return Card(
        title=f"Your request #{number} reached the moderators",
        body=(
            f"{who} Keep this message: its buttons are the only way back to your request, to "
            "read replies, answer, close or delete it. Haven cannot show them to you again."
        ),
        tone=CardTone.SUCCESS,
        fields=(("Your key", token),),
        actions=_person_actions(token, open_=True),
        footer=f"Without buttons: {person_line('open', '<key>')} with the key above.",
    )


def person_view(row: ContactRow, thread: Sequence[ContactLine], token: str) -> Card:
    status = RequestStatus(row.status)
    lines = tuple(
        make_mentions_inert(("You: " if line.from_person else "Moderator: ") + line.text)
        for line in thread
    )
    replied = any(not line.from_person for line in thread)
    return Card(
        title=f"Your request #{row.number}" + ("" if status is RequestStatus.OPEN else " (closed)"),
        body=make_mentions_inert(row.text) if row.text else "(a check-in, no text)",
        tone=CardTone.INFO,
        lines=lines or ("No reply yet. Haven tells you when a moderator answers, if it can.",),
        actions=_person_actions(token, open_=status is RequestStatus.OPEN),
        footer="" if replied or status is not RequestStatus.OPEN else "Only you see this.",
    )


def reply_notice(number: int, text: str) -> Card:
    """The DM a person gets when a moderator replies (while Haven knows who they are)."""
    return Card(
        title=f"A moderator replied to your request #{number}",
        body=make_mentions_inert(text),
        tone=CardTone.INFO,
        footer="Answer with the buttons on Haven's first message about this request.",
    )


def closed_notice(number: int) -> Card:
    return Card(
        title=f"Your request #{number} was closed by a moderator",
        body="You can still read it with your buttons until it is deleted.",
        tone=CardTone.INFO,
    )


def choose_card(struggling: bool) -> Card:
    """The first step: how to write. Each action is the line that opens (or, for a check-in,
    sends) it; text platforms type the line with the text after it."""
    actions = [
        Choice("Write anonymously", person_line("anonymous")),
        Choice("Write as myself", person_line("myself")),
    ]
    if struggling:
        actions.append(Choice("I'm struggling right now", person_line("struggling")))
    return Card(
        title="Talk to a moderator",
        body=(
            "Anonymously: the moderators read what you write but never learn who wrote it; "
            "Haven keeps nothing that could say. As yourself: they see your name, useful when "
            "you want them to act on something. Either way only moderators see it, and only "
            "you see their replies."
            + (
                "\n\nI'm struggling right now: one click tells the moderators someone asked "
                "for a check-in (nothing else), and shows you crisis lines at once."
                if struggling
                else ""
            )
        ),
        tone=CardTone.INFO,
        actions=tuple(actions),
        footer="Typing instead: /support-contact anonymous <what you want to say>",
    )


def confirm_delete(number: int, token: str) -> Card:
    return Card(
        title=f"Delete request #{number} for good?",
        body=(
            "Its text and every reply are deleted from Haven at once, and the moderators' "
            "inbox will say it was deleted by the sender. This cannot be undone."
        ),
        tone=CardTone.INFO,
        actions=(
            Choice("Delete for good", person_line("erase", token)),
            Choice("Keep it", person_line("open", token)),
        ),
        footer=f"Without buttons: {person_line('erase', '<key>')}",
    )


def done(title: str, body: str = "", footer: str = "") -> Card:
    return Card(title=title, body=body, tone=CardTone.SUCCESS, footer=footer)
