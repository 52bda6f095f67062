"""Slack listeners of the moderator contact line: `/support-contact`, the person's buttons (in
their DM with Haven, and "Talk to a moderator" on a /support answer), the inbox buttons, and
the two modals. Thin: every rule is the core's (`router.contact`, `router.open_or_run_text`).

- A form is opened where a line needs text: a bare `/support-contact` (or the /support button)
  opens the person's form; "Answer" opens a form whose submission is `/support-contact answer
  <key> <text>`; "Reply" on an inbox message opens the core's own reply form (the admin modal,
  submitted through the permission gate and audit like any admin form).
- Every answer is private: in the acknowledgement, a modal, or an ephemeral follow-up. No
  button here replaces the message it sits on: the DM holding the key must stay, and the inbox
  message is redrawn by the core itself.
- The card holding the reply key goes to the person's DM with Haven (SlackContact.tell_person);
  only when Slack will not deliver it is it shown privately where they are.
- Nothing is logged but the kind of failure: no ids, no text, no key.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import replace
from typing import Any, Protocol

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.contact import SlackContact, fitted
from bot.adapters.slack.contact_modals import (
    ANSWER_CALLBACK,
    CONTACT_CALLBACK,
    answer_submission,
    answer_view,
    contact_submission,
    contact_view,
    text_error,
)
from bot.adapters.slack.context import request_context, slack_error
from bot.adapters.slack.modals import form_view, result_view
from bot.adapters.slack.render import (
    ACTION_CONTACT,
    ACTION_INBOX,
    CONTACT_LINE,
    SlackMessage,
    render_private,
)
from bot.adapters.slack.text import command_text
from bot.core.cards import Card, CardTone
from bot.core.commands.router import SOMETHING_WENT_WRONG
from bot.core.commands.verbs import FormRequest
from bot.core.contact.rules import person_line
from bot.core.contact.service import ContactAnswer
from bot.core.failures import log_failure
from bot.core.i18n import ENGLISH, N_, Words, translator
from bot.core.models import Actor, RequestContext
from bot.services import Services

log = logging.getLogger(__name__)

_SLACK_ERRORS = (SlackApiError, SlackClientError, OSError, TimeoutError)
# A line with one of these and no text opens the person's form ("" also from the /support
# button), with that choice picked; "struggling" alone is the one-click check-in.
_FORM_WORDS = ("", "anonymous", "myself")
_SENT_TO_DM = N_(
    "Haven sent you a direct message with buttons to read replies, answer, close or delete "
    "your request. Keep it: it is the only way back."
)


class Followup(Protocol):
    """The listeners' private follow-up to one person (listeners.py `_Followup`)."""

    async def message(self, message: SlackMessage, *, replace_original: bool) -> None: ...


def _form_refused(error: BaseException, words: Words) -> Card:
    return Card(
        title=words.gettext("I couldn't open the form"),
        body=words.gettext(
            "Slack did not open it ({error}). You can type the same as a line: {line} "
            "<what you want to say>"
        ).format(error=slack_error(error), line=person_line("anonymous")),
        tone=CardTone.ERROR,
        locale=words.locale,
    )


class ContactListeners:
    def __init__(
        self,
        services: Services,
        contact: SlackContact,
        *,
        spawn: Callable[[Coroutine[Any, Any, None], str], None],
        followup: Callable[[Mapping[str, Any], AsyncRespond], Followup],
        admin_actor: Callable[[Mapping[str, Any]], Awaitable[Actor]],
        person_context: Callable[[Mapping[str, Any]], Awaitable[RequestContext]],
    ) -> None:
        self._services = services
        self._contact = contact
        self._spawn = spawn
        self._followup = followup
        self._admin_actor = admin_actor
        # A person's context carries their Slack language (for this call only): the
        # contact line answers them in it, as /support does.
        self._person_context = person_context

    def register(self, app: AsyncApp) -> None:
        """Before the adapter's catch-all listeners: Bolt runs the first that matches."""
        app.command(CONTACT_LINE)(self.on_command)
        app.action(re.compile(rf"^{ACTION_CONTACT}_\d+$"))(self.on_person_button)
        app.action(re.compile(rf"^{ACTION_INBOX}_\d+$"))(self.on_inbox_button)
        app.view_submission(CONTACT_CALLBACK)(self.on_contact_submit)
        app.view_submission(ANSWER_CALLBACK)(self.on_answer_submit)

    # ---- the person ------------------------------------------------------------------------

    async def on_command(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        try:
            ctx = await self._person_context(body)
            text = command_text(str(body.get("text") or "")).strip()
            if text.lower() in _FORM_WORDS:
                refused = await self._open_contact_form(ctx, body, client, text.lower())
                if refused is None:
                    await ack()
                else:
                    await self._ack_card(ack, refused)
                return
            answer = await self._services.router.contact(ctx, f"{CONTACT_LINE} {text}")
            follow = self._followup(body, respond)
            shown = await self._deliver_key(ctx, answer, follow)
            await self._ack_card(ack, shown, follow)
        except Exception as error:
            log_failure(log, CONTACT_LINE, error)
            await self._ack_card(ack, SOMETHING_WENT_WRONG)

    async def on_person_button(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        """The "Talk to a moderator" button (opens the form), or a button on the person's own
        messages: Answer (opens a form), Read replies / Close / Delete (answered privately,
        below), and the check-in (sent at once: one click)."""
        action = (body.get("actions") or [{}])[0]
        line = str(action.get("value") or "")
        words = line.split()
        verb = words[1].lower() if len(words) > 1 else ""
        follow = self._followup(body, respond)
        opens_form = (verb in _FORM_WORDS and len(words) <= 2) or verb == "answer"
        if not opens_form:
            await ack()

            async def run() -> None:
                ctx = await self._person_context(body)
                answer = await self._services.router.contact(ctx, line)
                await self._tell(follow, await self._deliver_key(ctx, answer, follow))

            self._spawn(run(), "a button on a request")
            return
        # A form must open within Slack's 3 seconds of the click (the trigger_id's life).
        refused: Card | None
        try:
            ctx = await self._person_context(body)
            if verb == "answer":
                key = words[2] if len(words) > 2 else ""
                person = await self._services.router.contact_words(ctx)
                refused = await self._open(client, body, answer_view(key, person), person)
            else:
                refused = await self._open_contact_form(ctx, body, client, verb)
        except Exception as error:
            log_failure(log, "opening a contact form", error)
            refused = SOMETHING_WENT_WRONG
        await ack()
        if refused is not None:
            self._spawn(self._tell(follow, refused), "answering a contact button")

    async def on_contact_submit(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        try:
            view = body.get("view") or {}
            line, channel_id = contact_submission(view)
            ctx = await self._person_context({**body, "channel_id": channel_id})
            answer = await self._services.router.contact(ctx, line)
            errors = text_error(answer.shown)
            if errors:
                # The form stays open with what they wrote, the problem under the text.
                await ack(response_action="errors", errors=errors)
                return
            shown = await self._deliver_key(ctx, answer, None)
            await ack(response_action="update", view=result_view(fitted(shown)))
        except Exception as error:
            log_failure(log, "a contact form", error)
            await ack(response_action="update", view=result_view(SOMETHING_WENT_WRONG))

    async def on_answer_submit(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        try:
            ctx = await self._person_context(body)
            line = answer_submission(body.get("view") or {})
            card = (await self._services.router.contact(ctx, line)).shown
            errors = text_error(card)
            if errors:
                await ack(response_action="errors", errors=errors)
                return
            await ack(response_action="update", view=result_view(fitted(card)))
        except Exception as error:
            log_failure(log, "an answer form", error)
            await ack(response_action="update", view=result_view(SOMETHING_WENT_WRONG))

    # ---- the moderators --------------------------------------------------------------------

    async def on_inbox_button(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        """Reply / Close / Block sender on an inbox message: through the permission gate and
        the audit (`open_or_run_text`); answered to that moderator only."""
        action = (body.get("actions") or [{}])[0]
        line = str(action.get("value") or "")
        follow = self._followup(body, respond)
        card: Card | None
        try:
            ctx = request_context(body, await self._admin_actor(body))
            answer = await self._services.router.open_or_run_text(ctx, line)
            if isinstance(answer, FormRequest):
                card = await self._open(client, body, form_view(answer, (), ctx.channel_id))
            else:
                card = answer
        except Exception as error:
            log_failure(log, "an inbox button", error)
            card = SOMETHING_WENT_WRONG
        await ack()
        if card is not None:
            self._spawn(self._tell(follow, card), "answering an inbox button")

    # ---- helpers ---------------------------------------------------------------------------

    async def _open_contact_form(
        self, ctx: RequestContext, body: Mapping[str, Any], client: AsyncWebClient, chosen: str
    ) -> Card | None:
        """Open the person's form; a card instead when the core would refuse before any text
        is read (no inbox here, blocked, too soon: its own sentence) or Slack will not open it."""
        chosen = chosen or "anonymous"
        refused = await self._services.router.contact_precheck(ctx, chosen)
        if refused is not None:
            return refused
        commands = self._services.contact
        struggling = commands is not None and await commands.service.struggling_offered(
            ctx.community_id
        )
        words = await self._services.router.contact_words(ctx)
        view = contact_view(ctx.channel_id, struggling=struggling, chosen=chosen, words=words)
        return await self._open(client, body, view, words)

    async def _open(
        self,
        client: AsyncWebClient,
        body: Mapping[str, Any],
        view: dict[str, Any],
        words: Words = ENGLISH,
    ) -> Card | None:
        """Open `view`; the card saying Slack would not, in `words` (the person's)."""
        try:
            await client.views_open(trigger_id=str(body.get("trigger_id") or ""), view=view)
        except _SLACK_ERRORS as error:
            log.warning("views.open failed (%s)", slack_error(error))
            return _form_refused(error, words)
        return None

    async def _deliver_key(
        self, ctx: RequestContext, answer: ContactAnswer, follow: Followup | None
    ) -> Card:
        """The card holding the person's key to their DM; what to show them now. If the DM
        cannot be delivered, the key is shown with the answer instead (only to them)."""
        if answer.keep is None:
            return answer.shown
        if await self._contact.tell_person(ctx.community_id, ctx.actor.id, answer.keep):
            sent = translator(answer.shown.locale).gettext(_SENT_TO_DM)
            footer = " ".join(part for part in (answer.shown.footer, sent) if part)
            return replace(answer.shown, footer=footer)
        if follow is not None:
            # A command's answer is the acknowledgement; the key's buttons follow it.
            self._spawn(self._tell(follow, answer.keep), "showing a request's key")
            return answer.shown
        return answer.as_card()

    async def _tell(self, follow: Followup, card: Card) -> None:
        for message in render_private(card):
            await follow.message(message, replace_original=False)

    async def _ack_card(self, ack: AsyncAck, card: Card, follow: Followup | None = None) -> None:
        """The answer in the acknowledgement; a long one (a whole thread) continues in
        private follow-ups."""
        first, *rest = render_private(card)
        await ack(text=first.text, blocks=first.blocks, response_type="ephemeral")
        if rest and follow is not None:

            async def more() -> None:
                for message in rest:
                    await follow.message(message, replace_original=False)

            self._spawn(more(), "the rest of a contact answer")
