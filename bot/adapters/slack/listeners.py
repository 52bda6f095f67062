"""Slack listeners: thin translators from Bolt payloads to Haven's services and back.

Registered on an AsyncApp by `SlackListeners.register` (from the app factory, never at import).
Every listener acknowledges exactly once, whatever happens, and never raises into Bolt:

- `/support`: the answer is computed from memory and sent *in* the acknowledgement (HTTP body
  or Socket Mode ack payload) as an ephemeral message. Nothing about the asker is looked up,
  stored or logged; the reply never uses `chat.postEphemeral`, so it works in private channels
  and DMs Haven is not in (an acknowledgement needs no channel membership).
- `/support-admin`: the text grammar goes to `CommandRouter.run_text` with the caller's admin
  facts; a bare `message add`, `message edit <key>`, `resource add`, `resource edit <key>` or
  `schedule add` opens a modal instead. The core checks permission on every call.
- work that must follow the acknowledgement (a DM copy, a switched topic, a file, the rest of a
  long answer) runs in tasks this object holds, so shutdown can wait for them instead of losing
  them (Bolt's AsyncApp starts lazy listeners with a bare ensure_future and keeps no reference).
- `app_uninstalled` / `tokens_revoked` (bot tokens): the workspace is paused (the removal path
  with its grace) and, installed in many workspaces, Bolt's revocation handler deletes its
  installation. Each event is handled once by its event_id (bot/core/deliveries.py), and
  acknowledged only once handled, so Slack's retry of a failed or lost delivery still counts.
- follow-ups go through the request's response_url; once Slack says it is used up (five uses)
  or expired (30 minutes), through chat.postEphemeral to the same person where Haven is a
  member of the channel, else nowhere (`_Followup`). Never a public post.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.contact import SlackContact
from bot.adapters.slack.contact_listeners import ContactListeners
from bot.adapters.slack.context import (
    SlackDirectory,
    channel_of,
    community_for_team,
    request_context,
    slack_error,
    team_of,
    user_of,
)
from bot.adapters.slack.modals import (
    ACTION_TIMEZONE,
    CALLBACK_ID,
    field_errors,
    form_view,
    result_view,
    submission_options,
)
from bot.adapters.slack.render import (
    ACTION_DM_COPY,
    ACTION_LINK,
    ACTION_PAGE,
    ACTION_REGION,
    ACTION_REPORT,
    ACTION_RUN,
    ACTION_TOPIC,
    SlackMessage,
    read_state_value,
    render_card,
)
from bot.adapters.slack.text import command_text
from bot.adapters.slack.workspaces import WorkspaceClients
from bot.core.cards import Attachment, Card, CardTone
from bot.core.commands.router import SOMETHING_WENT_WRONG
from bot.core.commands.verbs import FormRequest
from bot.core.deliveries import Delivery
from bot.core.failures import log_failure
from bot.core.i18n import N_, translator
from bot.core.models import Actor, Platform, RequestContext
from bot.core.ports import InteractionOutcome, Metrics
from bot.core.scheduling.timezones import suggest_timezones
from bot.services import Services

log = logging.getLogger(__name__)

SUPPORT_COMMAND = "/support"
ADMIN_COMMAND = "/support-admin"
# How long shutdown waits for follow-up work (DM copies, overflow messages) to finish.
DRAIN_SECONDS = 5.0

_PRIVATE_DM_FAILED = N_(
    "I couldn't send you a direct message just now{why}. The answer above stays here until "
    "you reload; you can copy anything you need from it."
)
_DM_SENT = N_("Sent: you'll find a copy in your direct messages with Haven.")


# Slack's answer when a response_url is used up (a sixth use) or expired (after 30 minutes).
_URL_SPENT = (404, 410)
# chat.postEphemeral's refusals that mean "not here": dropped, never tried another way.
_NOT_HERE = frozenset({"not_in_channel", "channel_not_found", "user_not_in_channel"})


@dataclass(frozen=True)
class _Followup:
    """Follow-ups to one request, to the person who made it and nobody else.

    Through the request's response_url first (it works where Haven is not a member). When Slack
    says that URL is used up or expired, the same message goes to the same person in the same
    channel with chat.postEphemeral, but only where Haven is a member of the channel (asked
    with conversations.info; in a DM, Slack's own refusal decides). Otherwise it is dropped with
    a metric and a log line without user data: never posted publicly, never sent elsewhere.
    """

    respond: AsyncRespond
    # The workspace's own client is looked up only if the fallback is needed.
    clients: WorkspaceClients
    team_id: str
    metrics: Metrics
    channel_id: str | None
    user_id: str

    async def send(self, **message: Any) -> None:
        try:
            response = await self.respond(**message)
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            log.warning("A response_url follow-up could not be sent (%s)", type(error).__name__)
            self.metrics.followup_dropped(Platform.SLACK, "unreachable")
            return
        if response.status_code == 200:
            return
        if response.status_code not in _URL_SPENT:
            log.warning(
                "Slack refused a response_url follow-up (HTTP %d); dropped", response.status_code
            )
            self.metrics.followup_dropped(Platform.SLACK, "refused")
            return
        await self._ephemeral(response.status_code, message)

    async def message(self, message: SlackMessage, *, replace_original: bool) -> None:
        """A rendered message as an ephemeral follow-up, in place of the original or below it."""
        await self.send(
            text=message.text,
            blocks=message.blocks,
            response_type="ephemeral",
            replace_original=replace_original,
        )

    async def _ephemeral(self, status: int, message: Mapping[str, Any]) -> None:
        spent = f"HTTP {status}: the response_url is used up or expired"
        try:
            client = await self.clients.for_team(self.team_id)
        except Exception as error:
            log.warning("A follow-up was dropped (%s; %s)", spent, type(error).__name__)
            self.metrics.followup_dropped(Platform.SLACK, "not_installed")
            return
        reason = await self._not_here(client)
        if reason is None:
            try:
                await client.chat_postEphemeral(
                    channel=self.channel_id or "",
                    user=self.user_id,
                    text=str(message.get("text") or ""),
                    blocks=message.get("blocks"),
                )
            except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
                code = slack_error(error)
                reason = code if code in _NOT_HERE else "fallback_failed"
            else:
                log.info("A follow-up went by chat.postEphemeral (%s)", spent)
                self.metrics.followup_fallback(Platform.SLACK)
                return
        log.warning("A follow-up was dropped (%s; no private way left: %s)", spent, reason)
        self.metrics.followup_dropped(Platform.SLACK, reason)

    async def _not_here(self, client: AsyncWebClient) -> str | None:
        """Why Haven cannot post privately in the channel, or None when it is a member."""
        if not self.channel_id or not self.user_id:
            return "no_channel"
        if self.channel_id.startswith("D"):
            # conversations.info on a DM needs im:read, which Haven does not ask for; in a DM
            # that is not Haven's own, chat.postEphemeral answers channel_not_found.
            return None
        try:
            info = await client.conversations_info(channel=self.channel_id)
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
            code = slack_error(error)
            return code if code in _NOT_HERE else "channel_unknown"
        channel = info.get("channel") or {}
        return None if channel.get("is_member") else "not_in_channel"


class EventNotHandled(Exception):
    """An event failed (already logged); Bolt answers 500 and Slack delivers it again."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} was not handled; Slack will deliver it again")


@dataclass(frozen=True)
class Revocation:
    """Bolt's built-in token revocation handlers (installations deleted from the store), run
    by Haven's own lifecycle listeners when Haven is installed in many workspaces."""

    app_uninstalled: Callable[..., Awaitable[object]]
    tokens_revoked: Callable[..., Awaitable[object]]


class SlackListeners:
    """The objects Bolt calls. Holds the services and the follow-up tasks."""

    def __init__(
        self,
        services: Services,
        directory: SlackDirectory,
        clients: WorkspaceClients,
        *,
        revocation: Revocation | None = None,
        contact: SlackContact | None = None,
    ) -> None:
        self._services = services
        self._directory = directory
        # Each workspace's client, for the chat.postEphemeral fallback of spent response_urls.
        self._clients = clients
        self._revocation = revocation
        self._tasks: set[asyncio.Task[None]] = set()
        # The moderator contact line (/support-contact, its buttons and forms).
        self._contact = (
            ContactListeners(
                services,
                contact,
                spawn=self._spawn,
                followup=self._followup,
                admin_actor=self._admin_actor,
                person_context=self._person_context,
            )
            if contact is not None
            else None
        )

    # ---- registration ----------------------------------------------------------------------

    def register(self, app: AsyncApp) -> None:
        # Listeners never raise except EventNotHandled (already logged; Bolt answers 500 so
        # Slack delivers again): Bolt's default handler would log it again with a traceback.
        app.error(self.on_error)
        app.command(SUPPORT_COMMAND)(self.on_support)
        app.command(ADMIN_COMMAND)(self.on_admin)
        app.action(ACTION_TOPIC)(self.on_switch)
        app.action(ACTION_REGION)(self.on_switch)
        app.action(ACTION_DM_COPY)(self.on_dm_copy)
        app.action(re.compile(rf"^{ACTION_REPORT}_\d+$"))(self.on_report)
        app.action(re.compile(rf"^(?:{ACTION_RUN}_\d+|{ACTION_PAGE}_(?:prev|next))$"))(
            self.on_run_line
        )
        app.options(ACTION_TIMEZONE)(self.on_timezone_options)
        app.view_submission(CALLBACK_ID)(self.on_modal_submit)
        app.event("app_uninstalled")(self.on_removed)
        app.event("tokens_revoked")(self.on_tokens_revoked)
        if self._contact is not None:
            self._contact.register(app)
        # Everything else is acknowledged and dropped: Bolt would otherwise log the unhandled
        # request with its body (user ids) at WARNING. Link buttons land here too.
        app.action(re.compile(rf"^{ACTION_LINK}_\d+$"))(self.on_ignored)
        app.action(re.compile(".*"))(self.on_ignored)
        app.view(re.compile(".*"))(self.on_ignored)
        app.shortcut(re.compile(".*"))(self.on_ignored)
        app.options(re.compile(".*"))(self.on_no_options)
        app.event(re.compile(".*"))(self.on_ignored)

    # ---- follow-up tasks -------------------------------------------------------------------

    def _spawn(
        self, work: Coroutine[Any, Any, None], what: str, *, counted_as: str | None = None
    ) -> None:
        """`counted_as`: the command this work answers (a button), counted when it ends."""

        async def guarded() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log_failure(log, what, error)
                self._services.metrics.error(type(error).__name__)
                if counted_as is not None:
                    self._count(counted_as, InteractionOutcome.ERROR)
            else:
                if counted_as is not None:
                    self._count(counted_as, InteractionOutcome.OK)

        task = asyncio.get_running_loop().create_task(guarded(), name=f"slack: {what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for every follow-up task (tests use this; shutdown uses `aclose`)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self, grace: float = DRAIN_SECONDS) -> None:
        if not self._tasks:
            return
        done, pending = await asyncio.wait(list(self._tasks), timeout=grace)
        del done
        for task in pending:
            task.cancel()
        if pending:
            log.warning("Stopped %d unfinished Slack follow-up task(s) at shutdown", len(pending))
            await asyncio.gather(*pending, return_exceptions=True)

    # ---- shared helpers --------------------------------------------------------------------

    def _count(self, what: str, outcome: InteractionOutcome) -> None:
        self._services.metrics.interaction(Platform.SLACK, what, outcome)

    async def _admin_actor(self, body: Mapping[str, Any]) -> Actor:
        """The caller with the facts the core's permission rule needs (looked up, cached)."""
        community = await self._services.communities.get(community_for_team(team_of(body)))
        groups = community.moderator_role_ids if community is not None else ()
        return await self._directory.actor(user_of(body), groups, team_id=team_of(body))

    async def _person_context(self, body: Mapping[str, Any]) -> RequestContext:
        """The context of a /support request, with the person's Slack language for this call
        (looked up, held in memory for minutes; never stored)."""
        ctx = request_context(body)
        return replace(ctx, locale=await self._directory.locale(team_of(body), user_of(body)))

    async def _context_for_line(self, body: Mapping[str, Any], line: str) -> RequestContext:
        if line.lstrip().lower().startswith(ADMIN_COMMAND):
            return request_context(body, await self._admin_actor(body))
        return await self._person_context(body)

    def _followup(self, body: Mapping[str, Any], respond: AsyncRespond) -> _Followup:
        return _Followup(
            respond,
            self._clients,
            team_of(body),
            self._services.metrics,
            channel_of(body),
            user_of(body),
        )

    def _send_rest(self, follow: _Followup, messages: list[SlackMessage]) -> None:
        """Messages after the first of a long answer, in order, through the response_url."""
        if len(messages) < 2:
            return

        async def rest() -> None:
            for message in messages[1:]:
                await follow.message(message, replace_original=False)

        self._spawn(rest(), "sending the rest of a long answer")

    async def _answer(
        self, ack: AsyncAck, follow: _Followup, card: Card, *, dm_copy: bool = False
    ) -> None:
        messages = render_card(card, dm_copy=dm_copy)
        first = messages[0]
        # Ephemeral always: nobody else in the channel sees who asked or what they were shown.
        await ack(text=first.text, blocks=first.blocks, response_type="ephemeral")
        self._send_rest(follow, messages)

    # ---- /support --------------------------------------------------------------------------

    async def on_support(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        follow = self._followup(body, respond)
        try:
            ctx = await self._person_context(body)
            text = command_text(str(body.get("text") or ""))
            card = await self._services.router.run_text(ctx, f"{SUPPORT_COMMAND} {text}")
            await self._answer(ack, follow, card, dm_copy=True)
        except Exception as error:
            log_failure(log, "/support", error)
            self._services.metrics.error(type(error).__name__)
            self._count(SUPPORT_COMMAND, InteractionOutcome.ERROR)
            await self._answer(ack, follow, SOMETHING_WENT_WRONG)
        else:
            self._count(SUPPORT_COMMAND, InteractionOutcome.OK)

    # ---- /support-admin --------------------------------------------------------------------

    async def on_admin(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        follow = self._followup(body, respond)
        # The counter keeps only the group and verb names of this line (bot/metrics.py).
        what = ADMIN_COMMAND
        try:
            text = command_text(str(body.get("text") or "")).strip()
            what = f"{ADMIN_COMMAND} {text}"
            ctx = request_context(body, await self._admin_actor(body))
            line = f"{ADMIN_COMMAND} {text}"
            answer = await self._services.router.open_or_run_text(ctx, line)
            if isinstance(answer, FormRequest):
                refused = await self._open_modal(body, client, answer)
                if refused is None:
                    await ack()
                else:
                    await self._answer(ack, follow, refused)
                self._count(what, InteractionOutcome.OK)
                return
            card = answer
            if card.attachment is not None:
                card = self._send_file(card, card.attachment, body, client, follow)
            await self._answer(ack, follow, card)
        except Exception as error:
            log_failure(log, "/support-admin", error)
            self._services.metrics.error(type(error).__name__)
            self._count(what, InteractionOutcome.ERROR)
            await self._answer(ack, follow, SOMETHING_WENT_WRONG)
        else:
            self._count(what, InteractionOutcome.OK)

    async def _open_modal(
        self, body: Mapping[str, Any], client: AsyncWebClient, form: FormRequest
    ) -> Card | None:
        """Open the core's form as a modal; a card to show instead when Slack will not."""
        topics = self._services.support.topic_choices(community_for_team(team_of(body)), "")
        view = form_view(form, topics, str(body.get("channel_id") or "") or None)
        try:
            await client.views_open(trigger_id=str(body.get("trigger_id") or ""), view=view)
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
            log.warning("views.open failed (%s)", slack_error(error))
            return Card(
                title="I couldn't open the form",
                body=(
                    f"Slack did not open it ({slack_error(error)}). You can use the text form "
                    f"instead: /support-admin {form.group} {form.verb} name:value ... — "
                    "/support-admin help lists every option."
                ),
                tone=CardTone.ERROR,
            )
        return None

    def _send_file(
        self,
        card: Card,
        attachment: Attachment,
        body: Mapping[str, Any],
        client: AsyncWebClient,
        follow: _Followup,
    ) -> Card:
        """Upload an export to the moderator's DM with Haven; the card says where it went."""
        user_id = user_of(body)

        async def upload() -> None:
            try:
                opened = await client.conversations_open(users=user_id)
                channel = str(opened["channel"]["id"])
                await client.files_upload_v2(
                    channel=channel,
                    filename=attachment.filename,
                    content=attachment.content,
                    title=attachment.filename,
                )
            except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
                why = slack_error(error)
                log.warning("Sending an export file failed (%s)", why)
                await follow.send(
                    text=f"I couldn't send {attachment.filename} to your DMs ({why}). "
                    "`haven pack export` on the server gives the same file.",
                    response_type="ephemeral",
                    replace_original=False,
                )

        self._spawn(upload(), "sending an export file")
        return replace(
            card,
            body=(card.body + "\n\n" if card.body else "")
            + f"I'm sending {attachment.filename} to you in a direct message with Haven.",
            attachment=None,
        )

    # ---- buttons and menus on our messages -------------------------------------------------

    async def on_switch(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        """Another topic or a country picked on a /support answer: replace it in place."""
        await ack()
        action = (body.get("actions") or [{}])[0]
        selected = action.get("selected_option") or {}
        topic, region, _ = read_state_value(str(selected.get("value") or ""))
        follow = self._followup(body, respond)

        async def switch() -> None:
            ctx = await self._person_context(body)
            card = await self._services.router.support(ctx, topic, region)
            message = render_card(card, dm_copy=True)[0]
            await follow.message(message, replace_original=True)

        menu = "topic" if action.get("action_id") == ACTION_TOPIC else "region"
        self._spawn(switch(), "switching a /support answer", counted_as=f"support {menu} menu")

    async def on_dm_copy(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        topic, region, key = read_state_value(str(action.get("value") or ""))
        follow = self._followup(body, respond)

        async def send_copy() -> None:
            card = await self._services.router.support(
                await self._person_context(body), topic, region, message_key=key
            )
            if card.tone is CardTone.ERROR:
                # Escaped like every answer: the error may quote what was sent back to us.
                message = render_card(card)[0]
                await follow.message(message, replace_original=False)
                return
            try:
                opened = await client.conversations_open(users=user_of(body))
                channel = str(opened["channel"]["id"])
                for message in render_card(card):
                    await client.chat_postMessage(
                        channel=channel,
                        text=message.text,
                        blocks=message.blocks,
                        unfurl_links=False,
                        unfurl_media=False,
                    )
            except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
                why = slack_error(error)
                log.warning("A DM copy could not be sent (%s)", why)
                await follow.send(
                    text=translator(card.locale)
                    .gettext(_PRIVATE_DM_FAILED)
                    .format(why=f" (Slack said {why})"),
                    response_type="ephemeral",
                    replace_original=False,
                )
                return
            await follow.send(
                text=translator(card.locale).gettext(_DM_SENT),
                response_type="ephemeral",
                replace_original=False,
            )

        self._spawn(send_copy(), "sending a DM copy", counted_as="dm copy")

    async def on_report(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        """A report on a resource of an answer: counted with nothing about who sent it, and
        thanked in a new private message, so the answer stays as it was."""
        await ack()
        action = (body.get("actions") or [{}])[0]
        words = str((action.get("selected_option") or {}).get("value") or "").split()
        key, kind = (words[-2], words[-1]) if len(words) >= 3 else ("", "")
        follow = self._followup(body, respond)

        async def report() -> None:
            ctx = await self._person_context(body)
            card = await self._services.router.report(ctx, key, kind)
            await follow.message(render_card(card)[0], replace_original=False)

        self._spawn(report(), "counting a resource report", counted_as="support report")

    async def on_run_line(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        """A button whose value is a command line (Apply, Previous/Next page)."""
        await ack()
        action = (body.get("actions") or [{}])[0]
        line = str(action.get("value") or "")
        follow = self._followup(body, respond)

        async def run() -> None:
            ctx = await self._context_for_line(body, line)
            card = await self._services.router.run_text(ctx, line)
            messages = render_card(card)
            await follow.message(messages[0], replace_original=True)
            for message in messages[1:]:
                await follow.message(message, replace_original=False)

        # Counted by the line's group and verb only (a page button: "message list").
        self._spawn(run(), "running a button's command", counted_as=line)

    # ---- modals ----------------------------------------------------------------------------

    async def on_timezone_options(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        query = str(body.get("value") or "").strip()
        try:
            zones = suggest_timezones(query, 100)
        except Exception as error:  # an options request must be answered, even if empty
            log_failure(log, "time zone search", error)
            zones = []
        await ack(
            options=[
                {"text": {"type": "plain_text", "text": zone[:75]}, "value": zone[:150]}
                for zone in zones[:100]
            ]
        )

    async def on_modal_submit(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        try:
            view = body.get("view") or {}
            parsed = submission_options(view)
            if parsed is None:
                await ack()
                return
            state, options = parsed
            actor = await self._admin_actor(body)
            # Keep the channel the form was opened from, so the same rules apply as to text.
            ctx = request_context({**body, "channel_id": state.channel_id}, actor)
            card = await self._services.router.admin(ctx, state.group, state.verb, options)
            errors = field_errors(card, view)
            if errors:
                # The form stays open with what they typed; each problem under its field.
                await ack(response_action="errors", errors=errors)
                return
            await ack(response_action="update", view=result_view(card))
        except Exception as error:
            log_failure(log, "a modal submission", error)
            self._services.metrics.error(type(error).__name__)
            await ack(response_action="update", view=result_view(SOMETHING_WENT_WRONG))

    # ---- lifecycle events ------------------------------------------------------------------

    async def on_removed(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        async def remove() -> None:
            await self._mark_removed(body, "The Slack app was uninstalled")
            if self._revocation is not None:
                await self._revocation.app_uninstalled(context=context)

        await self._once(body, remove, "an app_uninstalled event")
        await ack()

    async def on_tokens_revoked(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        event = body.get("event") or {}
        if not (event.get("tokens") or {}).get("bot"):
            await ack()
            return  # only user tokens were revoked; Haven holds none

        async def remove() -> None:
            await self._mark_removed(body, "Haven's Slack token was revoked")
            if self._revocation is not None:
                await self._revocation.tokens_revoked(event=event, context=context)

        await self._once(body, remove, "a tokens_revoked event")
        await ack()

    async def _once(
        self, body: Mapping[str, Any], handle: Callable[[], Awaitable[None]], what: str
    ) -> None:
        """Handle an Events API event once across deliveries and processes (by event_id;
        bot/core/deliveries.py says why it is recorded only once handled). Acknowledged
        only after: a failure is logged and answered 500 (EventNotHandled), so Slack
        retries and the retry handles it. A redelivery of a handled event does nothing."""
        event_id = str(body.get("event_id") or "")
        try:
            if event_id:
                outcome = await self._services.deliveries.once(event_id, handle)
            else:
                await handle()
                outcome = Delivery.HANDLED
        except Exception as error:
            log_failure(log, what, error)
            self._services.metrics.error(type(error).__name__)
            raise EventNotHandled(what) from None
        if outcome is Delivery.IN_FLIGHT:
            # Acknowledging now would tell Slack it was delivered; if the first handling
            # then failed, no retry would come. An error answer makes Slack try again later.
            raise EventNotHandled(what)

    async def _mark_removed(self, body: Mapping[str, Any], reason: str) -> None:
        await self._services.communities.mark_removed(community_for_team(team_of(body)), reason)

    async def on_error(self, error: Exception) -> None:
        if not isinstance(error, EventNotHandled):
            log_failure(log, "a Slack listener", error)

    async def on_ignored(self, ack: AsyncAck) -> None:
        await ack()

    async def on_no_options(self, ack: AsyncAck) -> None:
        await ack(options=[])
