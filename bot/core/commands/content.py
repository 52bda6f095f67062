"""The `message` and `resource` groups of `/support-admin`: one table of verbs for both kinds.

Both kinds are library items with the same verbs (add, edit, show, list, enable, disable,
remove, history, undo). Only their fields differ, so each kind is an `ItemSpec` (its options,
its draft, its card) and one `LibraryItemCommands` builds the verb table from it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.cards import Card, CardTone, PageRef
from bot.core.commands.grammar import quote
from bot.core.commands.verbs import (
    Arguments,
    Completion,
    Form,
    Option,
    OptionKind,
    Verb,
    VerbTable,
)
from bot.core.content.audience import ages_text
from bot.core.content.curation import CurationService, MessageDraft, ResourceDraft
from bot.core.content.hours import MAX_HOURS_TEXT as MAX_OPENING_HOURS
from bot.core.content.records import item_to_dict
from bot.core.content.reports import WINDOW_DAYS, ReportService
from bot.core.content.staleness import STALE_AFTER_MONTHS, stale_resources
from bot.core.content.validation import (
    MAX_CONTACT_LENGTH,
    MAX_DESCRIPTION_LENGTH,
    MAX_HOURS_LENGTH,
    MAX_KEY_LENGTH,
    MAX_MESSAGE_LENGTH,
    MAX_TITLE_LENGTH,
    MAX_URL_LENGTH,
    make_mentions_inert,
)
from bot.core.errors import ValidationFailed
from bot.core.models import (
    MAX_RANK,
    Audience,
    AuditEntry,
    ContactKind,
    ItemKind,
    LibraryItem,
    RequestContext,
    Resource,
    SupportMessage,
    paginate,
)
from bot.core.ports import ItemLayer, Review
from bot.core.scheduling.timezones import MAX_TIMEZONE_LENGTH

MAX_LIST_LENGTH = 200  # a comma-separated list of topics or regions
PAGE = Option(
    "page",
    "Which page of the list",
    OptionKind.NUMBER,
    max_length=4,
    max_value=1000,
    placeholder="2",
)
VERSION = Option("version", "The version the form was opened at", OptionKind.NUMBER, hidden=True)
TOPICS = Option(
    "topics",
    "Topics, comma separated",
    max_length=MAX_LIST_LENGTH,
    completion=Completion.TOPICS,
    aliases=("topic",),
    placeholder="coming-out,family",
)
AUDIENCE = Option(
    "audience",
    "Who it is for (everyone, young-people, parents-and-families, allies)",
    OptionKind.CHOICE,
    max_length=32,
    choices=tuple(a.value for a in Audience),
    placeholder="everyone",
)
TOPIC_FILTER = Option(
    "topic",
    "Only this topic",
    max_length=64,
    completion=Completion.TOPIC,
    aliases=("topics",),
    placeholder="<slug>",
)


def _preview(text: str, limit: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def audit_time(at: str, timezone: str) -> str:
    """An audit time (ISO UTC) in the community's time zone."""
    try:
        instant = datetime.fromisoformat(at)
        local = instant.astimezone(ZoneInfo(timezone))
    except (ValueError, KeyError):
        return at
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or timezone}"


def _shown(value: object) -> str:
    if value is None or value == "" or value == []:
        return "(none)"
    if isinstance(value, list):
        return ", ".join(str(v.get("display", v)) if isinstance(v, dict) else str(v) for v in value)
    return _preview(str(value), 60)


def change_lines(entry: AuditEntry) -> list[str]:
    """`field: before → after` for each field an audited change touched."""
    before, after = entry.before or {}, entry.after or {}
    if not entry.before and entry.after:
        return [f"    {_preview(str(after.get('text') or after.get('title') or ''), 60)}"]
    if entry.before and not entry.after:
        return []
    return [
        f"    {name}: {_shown(before.get(name))} → {_shown(after.get(name))}"
        for name in after
        if name != "version" and after.get(name) != before.get(name)
    ]


def history_card(
    kind: ItemKind, key: str | None, entries: tuple[AuditEntry, ...], timezone: str
) -> Card:
    what = f"{kind.value} {key}" if key else f"{kind.value}s"
    if not entries:
        return Card(title=f"History of {what}", body="No changes recorded yet.")
    lines: list[str] = []
    for entry in entries:
        who = entry.actor_name or entry.actor_id
        undone = " (undone)" if entry.undone else ""
        item = "" if key else f" {entry.item_key}"
        lines.append(f"{audit_time(entry.at, timezone)} {entry.action}{item} by {who}{undone}")
        lines.extend(change_lines(entry))
    return Card(
        title=f"History of {what}",
        lines=tuple(make_mentions_inert(line) for line in lines),
        footer=f"Newest first, times in {timezone}. `undo` reverts the newest change.",
    )


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """What differs between messages and resources, and nothing else."""

    kind: ItemKind
    description: str
    example_key: str
    fields: tuple[Option, ...]  # what add and edit take, besides key
    add_required: tuple[str, ...]
    form_title: str
    form_fields: tuple[str, ...]  # the most important first (Discord shows five)
    list_filters: tuple[Option, ...]
    add_example: str
    add: Callable[[CurationService, RequestContext, Arguments], Awaitable[LibraryItem]]
    edit: Callable[[CurationService, RequestContext, str, Arguments], Awaitable[LibraryItem]]
    card_fields: Callable[[LibraryItem], tuple[tuple[str, str], ...]]
    list_line: Callable[[LibraryItem], str]
    form_values: Callable[[LibraryItem], dict[str, str]]
    body: Callable[[LibraryItem], str] = lambda item: ""


def _version(args: Arguments) -> int | None:
    return args.number("version")


# ---- messages ------------------------------------------------------------------------------


def _message_draft(args: Arguments) -> MessageDraft:
    return MessageDraft(
        args.get("text"), args.get("topics"), args.get("locale"), args.get("audience")
    )


def _message(item: LibraryItem) -> SupportMessage:
    assert isinstance(item, SupportMessage)
    return item


def _message_fields(item: LibraryItem) -> tuple[tuple[str, str], ...]:
    message = _message(item)
    return (
        ("Key", message.key),
        ("Topics", ", ".join(message.topics)),
        ("Locale", message.locale),
        ("Audience", message.audience.value),
        ("Enabled", "yes" if message.enabled else "no"),
        ("Version", str(message.version)),
    )


def _message_line(item: LibraryItem) -> str:
    m = _message(item)
    state = "" if m.enabled else " (disabled)"
    return f"{m.key} [{', '.join(m.topics)}]{state} {_preview(m.text)}"


MESSAGES = ItemSpec(
    kind=ItemKind.MESSAGE,
    description="Supportive messages",
    example_key="coming-out-own-pace",
    fields=(
        Option(
            "text",
            "The message",
            OptionKind.PARAGRAPH,
            max_length=MAX_MESSAGE_LENGTH,
            placeholder="<the message>",
        ),
        TOPICS,
        Option("locale", "Language, e.g. en", max_length=16, placeholder="en"),
        AUDIENCE,
    ),
    add_required=("text",),
    form_title="Add a supportive message",
    form_fields=("text", "topics", "locale"),
    list_filters=(TOPIC_FILTER,),
    add_example="message add topics:coming-out You are loved, exactly as you are.",
    add=lambda curation, ctx, args: curation.add_message(ctx, _message_draft(args)),
    edit=lambda curation, ctx, key, args: curation.edit_message(
        ctx, key, _message_draft(args), _version(args)
    ),
    card_fields=_message_fields,
    list_line=_message_line,
    form_values=lambda item: {
        "text": _message(item).text,
        "topics": ", ".join(_message(item).topics),
        "locale": _message(item).locale,
        "audience": _message(item).audience.value,
    },
    body=lambda item: make_mentions_inert(_message(item).text),
)

# ---- resources -----------------------------------------------------------------------------

_CONTACT_OPTIONS = {"phone": ContactKind.PHONE, "sms": ContactKind.TEXT, "chat": ContactKind.CHAT}
_CONTACT_OPTIONS["email"] = ContactKind.EMAIL


def _resource(item: LibraryItem) -> Resource:
    assert isinstance(item, Resource)
    return item


def _resource_draft(args: Arguments) -> ResourceDraft:
    names = ResourceDraft.__dataclass_fields__
    return ResourceDraft(**{name: args.values.get(name) for name in names})


def _resource_fields(item: LibraryItem) -> tuple[tuple[str, str], ...]:
    resource = _resource(item)
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
        ("Open", resource.opening_hours or "not given (open now is not shown)"),
        ("Time zone", resource.timezone or "the person's own"),
        ("Rank", str(resource.rank)),
        (
            "Audience",
            resource.audience.value
            + (f" ({ages})" if (ages := ages_text(resource.age_min, resource.age_max)) else ""),
        ),
        ("Last verified", resource.last_verified.isoformat() if resource.last_verified else "-"),
        ("Status", status),
        *((("Notes for moderators", resource.notes_for_mods),) if resource.notes_for_mods else ()),
        ("Enabled", "yes" if resource.enabled else "no"),
        ("Version", str(resource.version)),
    )


def _resource_line(item: LibraryItem) -> str:
    r = _resource(item)
    review = " (needs review)" if r.needs_review else ""
    return (
        f"{r.key} — {r.title} [{', '.join(r.regions)}]{review}{'' if r.enabled else ' (disabled)'}"
    )


def _resource_form_values(item: LibraryItem) -> dict[str, str]:
    r = _resource(item)
    values = {
        "title": r.title,
        "url": r.url,
        "topics": ", ".join(r.topics),
        "regions": ", ".join(r.regions),
        "description": r.description,
        "hours": r.hours,
        "crisis": "yes" if r.crisis_service else "no",
        "open": r.opening_hours,
        "timezone": r.timezone,
        "rank": str(r.rank),
        "audience": r.audience.value,
        "ages": ages_text(r.age_min, r.age_max),
    }
    for name, kind in _CONTACT_OPTIONS.items():
        found = next((c.display for c in r.contacts if c.kind is kind), "")
        values[name] = found
    return values


def _contact(name: str, description: str, placeholder: str = "") -> Option:
    return Option(name, description, max_length=MAX_CONTACT_LENGTH, placeholder=placeholder)


RESOURCES = ItemSpec(
    kind=ItemKind.RESOURCE,
    description="Helplines and links",
    example_key="gb-samaritans",
    fields=(
        Option("title", "Name", max_length=MAX_TITLE_LENGTH, placeholder='"Name"'),
        Option("url", "https:// link", max_length=MAX_URL_LENGTH, placeholder="https://..."),
        TOPICS,
        Option(
            "regions",
            "Countries (GB, IE) or global",
            max_length=MAX_LIST_LENGTH,
            completion=Completion.REGIONS,
            aliases=("region",),
            placeholder="GB",
        ),
        Option(
            "description",
            "What it offers",
            OptionKind.PARAGRAPH,
            max_length=MAX_DESCRIPTION_LENGTH,
            placeholder="...",
        ),
        _contact("phone", "Phone, as printed", '"116 123"'),
        _contact("sms", "Text line"),
        _contact("chat", "Web chat link (https://)"),
        _contact("email", "Email address"),
        Option("hours", "Opening hours, e.g. 24/7", max_length=MAX_HOURS_LENGTH),
        Option("crisis", "A crisis line?", OptionKind.YES_NO, max_length=5, placeholder="yes"),
        Option(
            "open",
            "When it is open, e.g. Mo-Fr 13:00-20:30 or 24/7 (none to clear)",
            max_length=MAX_OPENING_HOURS,
            placeholder='"Mo-Fr 13:00-20:30"',
        ),
        Option(
            "timezone",
            "Time zone of those hours, e.g. Europe/London",
            max_length=MAX_TIMEZONE_LENGTH,
            completion=Completion.TIMEZONE,
            placeholder="Europe/London",
        ),
        Option(
            "rank",
            "Order within its region and topic (1 first)",
            OptionKind.NUMBER,
            max_length=6,
            max_value=MAX_RANK,
            placeholder="10",
        ),
        AUDIENCE,
        Option("ages", 'Age range, e.g. "under 19" or 5-25', max_length=20, placeholder="under 19"),
    ),
    add_required=("title", "url", "topics", "regions"),
    form_title="Add a resource",
    form_fields=(
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
        "open",
        "timezone",
        "rank",
        "audience",
        "ages",
    ),
    list_filters=(
        TOPIC_FILTER,
        Option("region", "Only this country", max_length=64, completion=Completion.REGION),
    ),
    add_example='resource add title:"Samaritans" url:https://www.samaritans.org topics:crisis '
    'regions:GB phone:"116 123" crisis:yes',
    add=lambda curation, ctx, args: curation.add_resource(ctx, _resource_draft(args)),
    edit=lambda curation, ctx, key, args: curation.edit_resource(
        ctx, key, _resource_draft(args), _version(args)
    ),
    card_fields=_resource_fields,
    list_line=_resource_line,
    form_values=_resource_form_values,
)


class LibraryItemCommands:
    """The verbs of one item kind, declared once; the handlers are a few lines each."""

    def __init__(
        self, curation: CurationService, spec: ItemSpec, reports: ReportService | None = None
    ) -> None:
        self._curation = curation
        self._spec = spec
        # `resource show` lists people's reports (bot/core/content/reports.py).
        self._reports = reports
        kind = spec.kind.value
        key_completion = (
            Completion.MESSAGE_KEY if spec.kind is ItemKind.MESSAGE else Completion.RESOURCE_KEY
        )
        key = Option(
            "key",
            f"Which {kind}",
            required=True,
            max_length=MAX_KEY_LENGTH,
            completion=key_completion,
        )
        optional_key = Option(
            "key", "A short id (made from the title when left out)", max_length=MAX_KEY_LENGTH
        )
        add_fields = tuple(replace(o, required=o.name in spec.add_required) for o in spec.fields)
        rest = "text" if spec.kind is ItemKind.MESSAGE else None

        def keyed(name: str, summary: str, handler: Callable[..., Awaitable[Card]]) -> Verb:
            return Verb(
                name,
                summary,
                handler,
                options=(key,),
                positional=("key",),
                example=f"{kind} {name} key:{spec.example_key}",
            )

        add_options = (*add_fields, optional_key) if spec.kind is ItemKind.RESOURCE else add_fields
        self.table = VerbTable(
            kind,
            spec.description,
            (
                Verb(
                    "add",
                    f"add a {'supportive message' if rest else kind}",
                    self.add,
                    options=add_options,
                    rest=rest,
                    form=Form(spec.form_title, spec.form_fields, spec.add_required[:2]),
                    example=spec.add_example,
                ),
                Verb(
                    "edit",
                    f"change a {kind}",
                    self.edit,
                    options=(key, *spec.fields, VERSION),
                    positional=("key",),
                    rest=rest,
                    form=Form(f"Edit a {kind}", spec.form_fields),
                    prefill=self.prefill,
                    example=f"{kind} edit key:{spec.example_key} "
                    + ("A new text" if rest else 'hours:"24/7"'),
                ),
                Verb(
                    "list",
                    f"the library's {kind}s",
                    self.list,
                    options=(*spec.list_filters, PAGE),
                    positional=tuple(o.name for o in spec.list_filters),
                ),
                keyed("show", f"one {kind}, every field", self.show),
                keyed("remove", f"remove a {kind} (undo brings it back)", self.remove),
                keyed("history", f"changes to a {kind}, before and after", self.history),
                keyed("undo", f"undo the newest change to a {kind}", self.undo),
                keyed(
                    "enable",
                    f"show a {kind} again"
                    + (" (also confirms one that needs review)" if rest is None else ""),
                    self.enable,
                ),
                keyed("disable", f"stop showing a {kind}", self.disable),
                Verb(
                    "updates",
                    f"{kind}s Haven changed while you kept your own: keep yours or take Haven's",
                    self.updates,
                    options=(
                        Option(
                            "take",
                            "Take Haven's new version of this key",
                            max_length=MAX_KEY_LENGTH,
                            placeholder="<key>",
                        ),
                        Option(
                            "keep",
                            "Keep your own version of this key",
                            max_length=MAX_KEY_LENGTH,
                            placeholder="<key>",
                        ),
                    ),
                    example=f"{kind} updates take:{spec.example_key}",
                ),
                *(
                    (
                        Verb(
                            "stale",
                            f"resources not checked in {STALE_AFTER_MONTHS} months, oldest first",
                            self.stale,
                            options=(PAGE,),
                        ),
                    )
                    if spec.kind is ItemKind.RESOURCE
                    else ()
                ),
            ),
        )

    def _item_card(self, title: str, item: LibraryItem) -> Card:
        return Card(
            title=title,
            tone=CardTone.SUCCESS,
            body=self._spec.body(item),
            fields=self._spec.card_fields(item),
        )

    async def add(self, ctx: RequestContext, args: Arguments) -> Card:
        item = await self._spec.add(self._curation, ctx, args)
        return self._item_card(f"{self._spec.kind.value.capitalize()} added", item)

    async def edit(self, ctx: RequestContext, args: Arguments) -> Card:
        item = await self._spec.edit(self._curation, ctx, args.text("key"), args)
        return self._item_card(f"{self._spec.kind.value.capitalize()} updated", item)

    async def prefill(
        self, ctx: RequestContext, args: Arguments
    ) -> tuple[dict[str, str], dict[str, str]]:
        item = await self._curation.get(ctx, self._spec.kind, args.text("key"))
        # The version goes back with the form: a concurrent edit gets "changed since you
        # opened it" instead of being overwritten.
        return self._spec.form_values(item), {"key": item.key, "version": str(item.version)}

    async def show(self, ctx: RequestContext, args: Arguments) -> Card:
        item = await self._curation.get(ctx, self._spec.kind, args.text("key"))
        card = self._item_card(f"{self._spec.kind.value.capitalize()} {item.key}", item)
        fields = card.fields
        if self._reports is not None:
            # Only counts of SHOW_AT or more are ever returned; fewer shows nothing at all.
            counts = await self._reports.counts(ctx.community_id, item.key)
            fields += tuple(
                (f"Reports: {kind.label} (last {WINDOW_DAYS} days)", str(n))
                for kind, n in counts.items()
            )
        return Card(title=card.title, body=card.body, fields=fields)

    async def list(self, ctx: RequestContext, args: Arguments) -> Card:
        kind = self._spec.kind
        topic, region = args.get("topic"), args.get("region")
        page = await self._curation.list_items(ctx, kind, args.number("page") or 1, topic, region)
        command = f"/support-admin {kind.value} list"
        command += f" topic:{quote(topic)}" if topic else ""
        command += f" region:{quote(region)}" if region else ""
        return Card(
            title=f"{kind.value.capitalize()}s ({page.total})",
            lines=tuple(make_mentions_inert(self._spec.list_line(i)) for i in page.items)
            or ("Nothing here yet.",),
            page=PageRef(page=page.page, page_count=page.page_count, command=command),
            footer=f"`{kind.value} show <key>` shows every field of one.",
        )

    async def stale(self, ctx: RequestContext, args: Arguments) -> Card:
        """The library's resources nobody has checked for a year: the same rule and order
        as `haven pack check`."""
        library = await self._curation.library(ctx)
        stale = stale_resources(library.resources, self._curation.today())
        page = paginate(stale, args.number("page") or 1, clamp=True)
        return Card(
            title=f"Resources not checked in {STALE_AFTER_MONTHS} months ({page.total})",
            lines=tuple(make_mentions_inert(s.line()) for s in page.items)
            or ("Every resource was checked within the last year.",),
            page=PageRef(page.page, page.page_count, "/support-admin resource stale"),
            footer="Check the number, hours and link on the organisation's own site, then "
            "`resource edit` it (or `resource enable` to confirm it as it is).",
        )

    async def _set_enabled(self, ctx: RequestContext, args: Arguments, enabled: bool) -> Card:
        item = await self._curation.set_enabled(ctx, self._spec.kind, args.text("key"), enabled)
        state = "enabled" if enabled else "disabled"
        return self._item_card(f"{self._spec.kind.value.capitalize()} {state}", item)

    async def enable(self, ctx: RequestContext, args: Arguments) -> Card:
        return await self._set_enabled(ctx, args, True)

    async def disable(self, ctx: RequestContext, args: Arguments) -> Card:
        return await self._set_enabled(ctx, args, False)

    async def remove(self, ctx: RequestContext, args: Arguments) -> Card:
        kind = self._spec.kind.value
        removal = await self._curation.remove(ctx, self._spec.kind, args.text("key"))
        key = removal.item.key
        undo = f"`{kind} undo key:{key}` brings back what was there."
        if removal.layer is ItemLayer.EDITED:
            title, body = (
                f"{kind.capitalize()} reverted to Haven's version",
                f"{key} is one of Haven's own {kind}s, so it stays: your edit was removed and "
                f"Haven's version (with its future corrections) is shown again. {undo}",
            )
        elif removal.layer is ItemLayer.INHERITED:
            title, body = (
                f"{kind.capitalize()} hidden",
                f"{key} is one of Haven's own {kind}s, so it was hidden here rather than "
                f"deleted. `{kind} enable key:{key}` shows it again.",
            )
        else:
            title, body = f"{kind.capitalize()} removed", f"Removed {key}. {undo}"
        return Card(title=title, tone=CardTone.SUCCESS, body=body)

    async def updates(self, ctx: RequestContext, args: Arguments) -> Card:
        kind = self._spec.kind
        take, keep = args.get("take"), args.get("keep")
        if take and keep:
            raise ValidationFailed(["Give take:<key> or keep:<key>, not both."])
        if take or keep:
            review = await self._curation.resolve_update(ctx, kind, take or keep or "", bool(take))
            if take:
                body = (
                    f"{review.key} now shows Haven's version"
                    + (" (Haven retired it, so it is gone)." if review.after is None else ".")
                    + f" `{kind.value} undo key:{review.key}` brings yours back."
                )
            else:
                body = f"{review.key} keeps your own version."
            return Card(title="Update reviewed", tone=CardTone.SUCCESS, body=body)
        reviews = await self._curation.updates(ctx, kind)
        lines = tuple(make_mentions_inert(line) for r in reviews for line in _review_lines(r))
        return Card(
            title=f"Haven's updates to {kind.value}s you edited ({len(reviews)})",
            lines=lines
            or (
                "Nothing to review: you have Haven's current version of everything "
                "you did not edit, and no edited item changed since.",
            ),
            footer=f"`{kind.value} updates take:<key>` takes Haven's version; "
            f"`{kind.value} updates keep:<key>` keeps yours.",
        )

    async def history(self, ctx: RequestContext, args: Arguments) -> Card:
        key = args.text("key")
        entries = tuple(await self._curation.history(ctx, self._spec.kind, key))
        timezone = args.community.timezone if args.community else "UTC"
        return history_card(self._spec.kind, key, entries, timezone)

    async def undo(self, ctx: RequestContext, args: Arguments) -> Card:
        kind, key = self._spec.kind, args.text("key")
        undone = await self._curation.undo(ctx, kind, key)
        timezone = args.community.timezone if args.community else "UTC"
        return Card(
            title="Change undone",
            tone=CardTone.SUCCESS,
            body=f"Reverted the {undone.action} of {kind.value} {key} made at "
            f"{audit_time(undone.at, timezone)}.",
        )


def _review_lines(review: Review) -> list[str]:
    """One review item: what Haven changed (before -> after), field by field."""
    if review.after is None:
        return [f"{review.key}: Haven retired it (you still have your own copy)."]
    before, after = item_to_dict(review.before), item_to_dict(review.after)
    changed = [
        f"  {name}: {_shown(before.get(name))} -> {_shown(value)}"
        for name, value in after.items()
        if name != "version" and before.get(name) != value
    ]
    return [f"{review.key}: Haven's version changed", *changed]


def message_commands(curation: CurationService) -> LibraryItemCommands:
    return LibraryItemCommands(curation, MESSAGES)


def resource_commands(
    curation: CurationService, reports: ReportService | None = None
) -> LibraryItemCommands:
    return LibraryItemCommands(curation, RESOURCES, reports)
