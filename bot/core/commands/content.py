"""The `message` and `resource` groups of `/support-admin`: options in, Cards out."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.cards import Card, CardTone, PageRef
from bot.core.commands.grammar import quote
from bot.core.content.curation import CurationService, MessageDraft, ResourceDraft
from bot.core.content.validation import make_mentions_inert
from bot.core.errors import ValidationFailed
from bot.core.models import AuditEntry, ItemKind, Page, RequestContext, Resource, SupportMessage


def _require(options: Mapping[str, str], name: str, example: str) -> str:
    value = options.get(name, "").strip()
    if not value:
        raise ValidationFailed([f"{name}: is required here."], f"Example: {example}")
    return value


def _check_options(options: Mapping[str, str], allowed: tuple[str, ...], usage: str) -> None:
    unknown = [name for name in options if name not in allowed]
    if unknown:
        raise ValidationFailed(
            [f"{name}: is not an option here." for name in unknown],
            f"Usage: {usage}",
        )


def _page_number(options: Mapping[str, str]) -> int:
    raw = options.get("page", "1").strip()
    if not raw.isdigit():
        raise ValidationFailed([f"page: '{raw}' is not a page number."], "Use page:2, page:3 ...")
    return int(raw)


def _version(options: Mapping[str, str]) -> int | None:
    raw = options.get("version")
    if raw is None or not raw.strip():
        return None
    if not raw.strip().isdigit():
        raise ValidationFailed([f"version: '{raw}' is not a version number."])
    return int(raw)


def _preview(text: str, limit: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def history_card(kind: ItemKind, key: str | None, entries: tuple[AuditEntry, ...]) -> Card:
    what = f"{kind.value} {key}" if key else f"{kind.value}s"
    if not entries:
        return Card(title=f"History of {what}", body="No changes recorded yet.")
    lines = []
    for entry in entries:
        who = entry.actor_name or entry.actor_id
        undone = " (undone)" if entry.undone else ""
        changed = ""
        if entry.before and entry.after:
            fields = [
                name
                for name in entry.after
                if name != "version" and entry.after.get(name) != entry.before.get(name)
            ]
            changed = f": {', '.join(fields)}" if fields else ""
        item = "" if key else f" {entry.item_key}"
        lines.append(f"{entry.at} {entry.action}{item} by {who}{changed}{undone}")
    return Card(
        title=f"History of {what}",
        lines=tuple(make_mentions_inert(line) for line in lines),
        footer="Newest first. `undo` reverts the newest change that is not undone.",
    )


async def audit_verb(
    curation: CurationService, ctx: RequestContext, kind: ItemKind, verb: str, key: str
) -> Card:
    """`history` and `undo`: the same for every item kind."""
    if verb == "history":
        return history_card(kind, key, tuple(await curation.history(ctx, kind, key)))
    undone = await curation.undo(ctx, kind, key)
    return Card(
        title="Change undone",
        tone=CardTone.SUCCESS,
        body=f"Reverted the {undone.action} of {kind.value} {key} made at {undone.at}.",
    )


def _message_fields(message: SupportMessage) -> tuple[tuple[str, str], ...]:
    return (
        ("Key", message.key),
        ("Topics", ", ".join(message.topics)),
        ("Locale", message.locale),
        ("Enabled", "yes" if message.enabled else "no"),
        ("Version", str(message.version)),
    )


def _resource_fields(resource: Resource) -> tuple[tuple[str, str], ...]:
    contacts = "; ".join(f"{c.kind.value}: {c.display}" for c in resource.contacts) or "none"
    status = "needs review (hidden)" if resource.needs_review else "verified"
    return (
        ("Key", resource.key),
        ("Title", make_mentions_inert(resource.title)),
        ("Link", resource.url),
        ("Description", make_mentions_inert(resource.description) or "none"),
        ("Contacts", make_mentions_inert(contacts)),
        ("Regions", ", ".join(resource.regions)),
        ("Topics", ", ".join(resource.topics)),
        ("Crisis service", "yes" if resource.crisis_service else "no"),
        ("Hours", make_mentions_inert(resource.hours) or "not given"),
        ("Last verified", resource.last_verified.isoformat() if resource.last_verified else "-"),
        ("Status", status),
        *((("Notes for moderators", resource.notes_for_mods),) if resource.notes_for_mods else ()),
        ("Enabled", "yes" if resource.enabled else "no"),
        ("Version", str(resource.version)),
    )


def _list_card(title: str, page: Page[object], lines: list[str], command: str) -> Card:
    return Card(
        title=f"{title} ({page.total})",
        lines=tuple(make_mentions_inert(line) for line in lines) or ("Nothing here yet.",),
        page=PageRef(page=page.page, page_count=page.page_count, command=command),
        footer="Use `show <key>` for details.",
    )


class MessageCommands:
    name = "message"
    verbs = ("add", "edit", "remove", "list", "show", "history", "undo", "enable", "disable")

    def __init__(self, curation: CurationService) -> None:
        self._curation = curation

    def help_lines(self) -> tuple[str, ...]:
        return (
            "message add topics:coming-out text:<the message>  — add a supportive message",
            "message edit key:<key> text:<new text> [topics:a,b]  — change a message",
            "message remove|show|history|undo|enable|disable key:<key>",
            "message list [topic:<slug>] [page:N]  — the library's messages",
        )

    async def handle(self, ctx: RequestContext, verb: str, options: Mapping[str, str]) -> Card:
        if verb == "add":
            _check_options(options, ("text", "topics", "locale"), self.help_lines()[0])
            _require(options, "text", self.help_lines()[0])
            draft = MessageDraft(options.get("text"), options.get("topics"), options.get("locale"))
            message = await self._curation.add_message(ctx, draft)
            return Card(
                title="Message added",
                tone=CardTone.SUCCESS,
                body=make_mentions_inert(message.text),
                fields=_message_fields(message),
            )
        if verb == "list":
            _check_options(options, ("topic", "page"), self.help_lines()[3])
            topic = options.get("topic") or None
            page = await self._curation.list_messages(ctx, _page_number(options), topic)
            lines = [
                f"{m.key} [{', '.join(m.topics)}]{'' if m.enabled else ' (disabled)'} "
                f"{_preview(m.text)}"
                for m in page.items
            ]
            command = "/support-admin message list" + (f" topic:{quote(topic)}" if topic else "")
            return _list_card("Messages", page, lines, command)  # type: ignore[arg-type]
        allowed = ("key", "text", "topics", "locale", "version") if verb == "edit" else ("key",)
        _check_options(options, allowed, self.help_lines()[1 if verb == "edit" else 2])
        key = _require(options, "key", f"message {verb} key:coming-out-own-pace")
        if verb == "edit":
            draft = MessageDraft(options.get("text"), options.get("topics"), options.get("locale"))
            message = await self._curation.edit_message(ctx, key, draft, _version(options))
            return Card(
                title="Message updated",
                tone=CardTone.SUCCESS,
                body=make_mentions_inert(message.text),
                fields=_message_fields(message),
            )
        if verb == "show":
            message = await self._curation.get_message(ctx, key)
            return Card(
                title=f"Message {message.key}",
                body=make_mentions_inert(message.text),
                fields=_message_fields(message),
            )
        if verb == "remove":
            message = await self._curation.remove_message(ctx, key)
            return Card(
                title="Message removed",
                tone=CardTone.SUCCESS,
                body=f"Removed {message.key}. `message undo key:{message.key}` brings it back.",
            )
        if verb in ("enable", "disable"):
            message = await self._curation.set_message_enabled(ctx, key, verb == "enable")
            return Card(
                title=f"Message {verb}d", tone=CardTone.SUCCESS, fields=_message_fields(message)
            )
        if verb in ("history", "undo"):
            return await audit_verb(self._curation, ctx, ItemKind.MESSAGE, verb, key)
        raise ValidationFailed([f"message {verb}: not a message command."])


_RESOURCE_FIELDS = (
    "title",
    "url",
    "topics",
    "regions",
    "description",
    "phone",
    "sms",
    "chat",
    "email",
    "hours",
    "crisis",
)


def _resource_draft(options: Mapping[str, str]) -> ResourceDraft:
    return ResourceDraft(**{name: options.get(name) for name in (*_RESOURCE_FIELDS, "key")})


class ResourceCommands:
    name = "resource"
    verbs = ("add", "edit", "remove", "list", "show", "history", "undo", "enable", "disable")

    def __init__(self, curation: CurationService) -> None:
        self._curation = curation

    def help_lines(self) -> tuple[str, ...]:
        return (
            'resource add title:"Name" url:https://... topics:crisis regions:GB '
            '[phone:"116 123"] [sms:...] [email:...] [hours:...] [crisis:yes] [description:...]',
            "resource edit key:<key> [any field above]  — change a resource",
            "resource remove|show|history|undo|enable|disable key:<key>  "
            "(enable also confirms a resource that needs review)",
            "resource list [topic:<slug>] [region:GB] [page:N]",
        )

    async def handle(self, ctx: RequestContext, verb: str, options: Mapping[str, str]) -> Card:
        if verb == "add":
            _check_options(options, (*_RESOURCE_FIELDS, "key"), self.help_lines()[0])
            resource = await self._curation.add_resource(ctx, _resource_draft(options))
            return Card(
                title="Resource added", tone=CardTone.SUCCESS, fields=_resource_fields(resource)
            )
        if verb == "list":
            _check_options(options, ("topic", "region", "page"), self.help_lines()[3])
            topic, region = options.get("topic") or None, options.get("region") or None
            page = await self._curation.list_resources(ctx, _page_number(options), topic, region)
            lines = [
                f"{r.key} — {r.title} [{', '.join(r.regions)}]"
                f"{' (needs review)' if r.needs_review else ''}"
                f"{'' if r.enabled else ' (disabled)'}"
                for r in page.items
            ]
            command = "/support-admin resource list"
            command += f" topic:{quote(topic)}" if topic else ""
            command += f" region:{quote(region)}" if region else ""
            return _list_card("Resources", page, lines, command)  # type: ignore[arg-type]
        allowed = (*_RESOURCE_FIELDS, "key", "version") if verb == "edit" else ("key",)
        _check_options(options, allowed, self.help_lines()[1 if verb == "edit" else 2])
        key = _require(options, "key", f"resource {verb} key:gb-samaritans")
        if verb == "edit":
            draft = _resource_draft({k: v for k, v in options.items() if k != "key"})
            resource = await self._curation.edit_resource(ctx, key, draft, _version(options))
            return Card(
                title="Resource updated", tone=CardTone.SUCCESS, fields=_resource_fields(resource)
            )
        if verb == "show":
            resource = await self._curation.get_resource(ctx, key)
            return Card(title=f"Resource {resource.key}", fields=_resource_fields(resource))
        if verb == "remove":
            resource = await self._curation.remove_resource(ctx, key)
            return Card(
                title="Resource removed",
                tone=CardTone.SUCCESS,
                body=f"Removed {resource.key}. `resource undo key:{resource.key}` brings it back.",
            )
        if verb in ("enable", "disable"):
            resource = await self._curation.set_resource_enabled(ctx, key, verb == "enable")
            return Card(
                title=f"Resource {verb}d", tone=CardTone.SUCCESS, fields=_resource_fields(resource)
            )
        if verb in ("history", "undo"):
            return await audit_verb(self._curation, ctx, ItemKind.RESOURCE, verb, key)
        raise ValidationFailed([f"resource {verb}: not a resource command."])
