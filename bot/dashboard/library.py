"""The library pages: messages and resources by topic (and region), where each comes from
(Haven's, edited, the community's own), Haven's updates to review, and the add, edit, hide,
show (confirm) and remove forms.

Every change runs the chat command itself (`CommandRouter.admin`): the same gate, the same
option checks and limits, the same validation messages, the same audit entry with the
moderator's id. The forms are built from the same verb declarations as the commands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web

from bot.core.commands.verbs import FormRequest, Option, OptionKind, Verb
from bot.core.models import ItemKind, LibraryItem, Resource, SupportMessage
from bot.core.ports import ItemLayer
from bot.dashboard.site import Dashboard, Handler, form_fields, moderator

LAYER_LABELS = {
    ItemLayer.INHERITED: "Haven's",
    ItemLayer.EDITED: "edited by you",
    ItemLayer.OWN: "your own",
    ItemLayer.HIDDEN: "Haven's, hidden",
    ItemLayer.NONE: "",
}


@dataclass(frozen=True, slots=True)
class Row:
    """One item as the library page lists it."""

    key: str
    summary: str
    layer: str
    enabled: bool
    needs_review: bool
    regions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Field:
    """One form field, from the option the command declares."""

    name: str
    label: str
    kind: str  # text, paragraph, yes-no, choice
    value: str
    required: bool
    max_length: int
    choices: tuple[str, ...] = ()


def field_of(option: Option, value: str = "", required: bool | None = None) -> Field:
    kind = {
        OptionKind.PARAGRAPH: "paragraph",
        OptionKind.YES_NO: "yes-no",
        OptionKind.CHOICE: "choice",
    }.get(option.kind, "text")
    return Field(
        option.name,
        option.description,
        kind,
        value,
        option.required if required is None else required,
        option.max_length,
        option.choices,
    )


def form_of(verb: Verb) -> tuple[Field, ...]:
    """The fields of a verb's form on a page: every option a moderator types."""
    return tuple(
        field_of(option)
        for option in verb.shown_options
        if option.kind not in (OptionKind.FILE, OptionKind.SAVE_AS, OptionKind.CHANNEL)
    )


def _summary(item: LibraryItem) -> str:
    if isinstance(item, SupportMessage):
        return item.text if len(item.text) <= 160 else item.text[:159] + "…"
    return f"{item.title} — {item.url}"


def _verb(dashboard: Dashboard, kind: ItemKind, name: str) -> Verb:
    verb = dashboard.services.router.tables[kind.value].verb(name)
    assert verb is not None, f"{kind.value} {name} is declared in the verb tables"
    return verb


def index(dashboard: Dashboard) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        ctx = moderator(request)
        kind = ItemKind.RESOURCE if request.query.get("kind") == "resource" else ItemKind.MESSAGE
        region = request.query.get("region", "").strip().upper()[:8]
        curation = dashboard.services.curation
        library = await curation.library(ctx)
        layers = await curation.layers(ctx, kind)
        items: Sequence[LibraryItem] = (
            library.messages if kind is ItemKind.MESSAGE else library.resources
        )
        by_topic: list[tuple[str, list[Row]]] = []
        for topic in library.topics:
            rows = [
                Row(
                    item.key,
                    _summary(item),
                    LAYER_LABELS[layers.get(item.key, ItemLayer.NONE)],
                    item.enabled,
                    isinstance(item, Resource) and item.needs_review,
                    item.regions if isinstance(item, Resource) else (),
                )
                for item in items
                if topic.slug in item.topics
                and (not region or (isinstance(item, Resource) and region in item.regions))
            ]
            if rows:
                by_topic.append((topic.label, rows))
        reviews = await curation.updates(ctx, kind)
        return dashboard.page(
            request,
            "library.html",
            kind=kind.value,
            region=region,
            by_topic=by_topic,
            reviews=reviews,
            add_fields=form_of(_verb(dashboard, kind, "add")),
        )

    return handler


def item(dashboard: Dashboard) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        ctx = moderator(request)
        kind = ItemKind(request.match_info["kind"])
        key = request.match_info["key"]
        # Only this community's items: another community's key is simply not found (404).
        current = await dashboard.services.curation.get(ctx, kind, key)
        router = dashboard.services.router
        shown = await router.admin(ctx, kind.value, "show", {"key": key})
        form = await router.form(ctx, kind.value, "edit", {"key": key})
        fields: tuple[Field, ...] = ()
        carried: dict[str, str] = {}
        if isinstance(form, FormRequest):
            fields = tuple(field_of(f.option, f.value, required=False) for f in form.fields)
            carried = dict(form.carried)
        return dashboard.page(
            request,
            "item.html",
            kind=kind.value,
            key=current.key,
            enabled=current.enabled,
            needs_review=isinstance(current, Resource) and current.needs_review,
            card=shown,
            fields=fields,
            carried=carried,
        )

    return handler


def add(dashboard: Dashboard) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        ctx = moderator(request)
        kind = ItemKind(request.match_info["kind"])
        verb = _verb(dashboard, kind, "add")
        options = await _options(request, verb)
        card = await dashboard.services.router.admin(ctx, kind.value, "add", options)
        return dashboard.card_page(request, card, f"/library?kind={kind.value}")

    return handler


def change(dashboard: Dashboard) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        ctx = moderator(request)
        kind = ItemKind(request.match_info["kind"])
        key = request.match_info["key"]
        name = request.match_info["verb"]
        await dashboard.services.curation.get(ctx, kind, key)  # 404 for another's key
        options = await _options(request, _verb(dashboard, kind, name)) if name == "edit" else {}
        options["key"] = key
        card = await dashboard.services.router.admin(ctx, kind.value, name, options)
        back = f"/library?kind={kind}" if name == "remove" else f"/library/{kind}/{key}"
        return dashboard.card_page(request, card, back)

    return handler


def resolve_update(dashboard: Dashboard) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        ctx = moderator(request)
        kind = ItemKind(request.match_info["kind"])
        key = request.match_info["key"]
        if not any(r.key == key for r in await dashboard.services.curation.updates(ctx, kind)):
            return dashboard.page(request, "not_found.html", status=404)
        choice = request.match_info["choice"]
        card = await dashboard.services.router.admin(ctx, kind.value, "updates", {choice: key})
        return dashboard.card_page(request, card, f"/library?kind={kind.value}")

    return handler


async def _options(request: web.Request, verb: Verb) -> dict[str, str]:
    """The submitted fields the verb declares (and an edit's carried version); blank ones
    are left out, as a command leaves out the options nobody typed."""
    names = {option.name: option.name for option in verb.options if option.name != "key"}
    return {name: value for name, value in (await form_fields(request, names)).items() if value}
