"""Card -> Discord embed, components and file, within Discord's limits.

Limits (discord-api-docs, message.mdx / components reference): embed title 256, description
4096, 25 fields (name 256, value 1024), footer 2048, 6000 characters across the embed; 5 action
rows; 5 buttons per row; button label 80; link URL 512; 25 select options of 100 characters.
The Card is already inert (no live mentions); the client also sends AllowedMentions.none().

Views are built "stopped": discord.py would otherwise keep every view it sends in memory to
dispatch its callbacks (one per /support answer, for up to 15 minutes). Haven dispatches
components itself by custom_id (component_ids.py), so the library must not hold them.
"""

from __future__ import annotations

import io
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import discord

from bot.adapters.discord import component_ids as ids
from bot.core.cards import Card, CardResource, CardTone, Choice
from bot.core.i18n import N_, Words, translator

log = logging.getLogger(__name__)

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
BUTTON_LABEL_MAX = 80
LINK_URL_MAX = 512
SELECT_OPTIONS_MAX = 25
SELECT_TEXT_MAX = 100
PER_ROW = 5

COLOURS = {
    CardTone.SUPPORT: discord.Colour(0x8E7CC3),  # calm lavender
    CardTone.INFO: discord.Colour(0x5865F2),
    CardTone.SUCCESS: discord.Colour(0x3BA55D),
    CardTone.ERROR: discord.Colour(0xED4245),
}

DM_BUTTON_LABEL = N_("Send me a copy by DM")


def clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def label(text: str, limit: int, fallback: str = "—") -> str:
    """Like clip, for places Discord requires non-empty (field names, button labels)."""
    return clip(text, limit) or fallback


@dataclass
class RenderedCard:
    embed: discord.Embed
    view: discord.ui.View | None = None
    file: discord.File | None = None

    def send_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for send_message / followup.send / channel.send."""
        kwargs: dict[str, Any] = {"embed": self.embed}
        if self.view is not None:
            kwargs["view"] = self.view
        if self.file is not None:
            kwargs["file"] = self.file
        return kwargs

    def edit_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for edit_message (a None view removes old components)."""
        kwargs: dict[str, Any] = {"embed": self.embed, "view": self.view}
        if self.file is not None:
            kwargs["attachments"] = [self.file]
        return kwargs


def _md_url(url: str) -> str:
    # A ")" would end the markdown link early (Wikipedia-style URLs); percent-encoding keeps
    # the same address.
    return url.replace("(", "%28").replace(")", "%29")


def _md_text(text: str) -> str:
    return text.replace("[", "(").replace("]", ")")


def _resource_value(resource: CardResource, words: Words) -> str:
    lines: list[str] = []
    if resource.description:
        lines.append(resource.description)
    for contact in resource.contacts:
        # tel:/sms:/mailto: are not clickable in embeds; the number as printed is what matters.
        prefix = f"{contact.label}: " if contact.label else ""
        if contact.link and contact.link.startswith("https://"):
            lines.append(f"{prefix}[{_md_text(contact.display)}]({_md_url(contact.link)})")
        else:
            lines.append(f"{prefix}{contact.display}")
    if resource.hours:
        lines.append(words.gettext("Hours: {hours}").format(hours=resource.hours))
    facts = list(resource.badges)
    if resource.last_verified:
        facts.append(resource.last_verified)
    if facts:
        lines.append(" · ".join(facts))
    # The domain is the link text: a label can never hide where the link goes.
    link = f"🔗 [{_md_text(resource.domain)}]({_md_url(resource.url)})"
    body = "\n".join(lines)
    room = FIELD_VALUE_MAX - len(link) - 1
    body = clip(body, room) if body else ""
    return f"{body}\n{link}" if body else link


def _fit(embed: discord.Embed) -> None:
    """Trim the description, then fields, until the whole embed is within 6000 characters."""
    excess = len(embed) - EMBED_TOTAL_MAX
    if excess <= 0:
        return
    description = embed.description or ""
    if description:
        keep = max(len(description) - excess - 1, 200)
        embed.description = clip(description, keep)
    while len(embed) > EMBED_TOTAL_MAX and embed.fields:
        embed.remove_field(len(embed.fields) - 1)


def build_embed(card: Card) -> discord.Embed:
    words = translator(card.locale)
    description_parts = [card.body] if card.body else []
    if card.lines:
        description_parts.append("\n".join(card.lines))
    embed = discord.Embed(
        title=clip(card.title, TITLE_MAX) or None,
        description=clip("\n\n".join(description_parts), DESCRIPTION_MAX) or None,
        colour=COLOURS.get(card.tone, COLOURS[CardTone.INFO]),
    )
    fields: list[tuple[str, str, bool]] = []
    for name, value in card.fields:
        shown = value.strip() or "—"
        fields.append((label(name, FIELD_NAME_MAX), label(shown, FIELD_VALUE_MAX), True))
    for resource in card.resources:
        fields.append(
            (label(resource.title, FIELD_NAME_MAX), _resource_value(resource, words), False)
        )
    if card.tone is CardTone.ERROR and card.choices:
        values = ", ".join(c.value for c in card.choices)
        heading = card.choices_label or words.gettext("Try one of")
        fields.append((heading, clip(values, FIELD_VALUE_MAX), False))
    for name, value, inline in fields[:FIELDS_MAX]:
        embed.add_field(name=name, value=value, inline=inline and len(value) <= 40)
    footer = card.footer
    if card.page and card.page.page_count > 1:
        page = words.gettext("Page {page} of {count}").format(
            page=card.page.page, count=card.page.page_count
        )
        footer = f"{footer} · {page}" if footer else page
    if footer:
        embed.set_footer(text=clip(footer, FOOTER_MAX))
    _fit(embed)
    return embed


def _select_options(choices: tuple[Choice, ...], current: str | None) -> list[discord.SelectOption]:
    options: list[discord.SelectOption] = []
    seen: set[str] = set()
    for choice in choices:
        value = choice.value[:SELECT_TEXT_MAX]
        if not value or value in seen or value == current:
            continue
        seen.add(value)
        options.append(
            discord.SelectOption(
                label=label(choice.label, SELECT_TEXT_MAX, value),
                value=value,
                description=clip(choice.description, SELECT_TEXT_MAX) or None,
            )
        )
        if len(options) == SELECT_OPTIONS_MAX:
            break
    return options


def _link_buttons(card: Card) -> list[discord.ui.Button[discord.ui.View]]:
    buttons: list[discord.ui.Button[discord.ui.View]] = []
    seen: set[str] = set()
    for resource in card.resources:
        url = resource.url
        if not url.startswith("https://") or len(url) > LINK_URL_MAX or url in seen:
            continue
        seen.add(url)
        buttons.append(
            discord.ui.Button(
                style=discord.ButtonStyle.link,
                label=label(resource.title, BUTTON_LABEL_MAX, resource.domain or "Link"),
                url=url,
            )
        )
        if len(buttons) == PER_ROW:
            break
    return buttons


def _inert_view(rows: list[list[discord.ui.Item[discord.ui.View]]]) -> discord.ui.View | None:
    rows = [row for row in rows if row][:5]
    if not rows:
        return None
    view = discord.ui.View(timeout=None)
    for number, row in enumerate(rows):
        for item in row:
            item.row = number
            view.add_item(item)
    # Dispatch is by custom_id in HavenBot, never through this object: see the module docstring.
    view.stop()
    return view


def render_card(
    card: Card,
    store: ids.ShortLivedStore,
    *,
    interactive: bool = True,
    offer_dm_copy: bool = True,
) -> RenderedCard:
    """The whole message for `card`.

    `interactive=False` is for public channel posts and DM copies: links only, no buttons that
    would run commands in another context.
    """
    embed = build_embed(card)
    rows: list[list[discord.ui.Item[discord.ui.View]]] = [list(_link_buttons(card))]
    if interactive:
        rows.extend(_interactive_rows(card, store, offer_dm_copy))
    file = None
    if card.attachment is not None:
        file = discord.File(io.BytesIO(card.attachment.content), filename=card.attachment.filename)
    return RenderedCard(embed=embed, view=_inert_view(rows), file=file)


def _interactive_rows(
    card: Card, store: ids.ShortLivedStore, offer_dm_copy: bool
) -> list[list[discord.ui.Item[discord.ui.View]]]:
    words = translator(card.locale)
    rows: list[list[discord.ui.Item[discord.ui.View]]] = []
    if card.tone is CardTone.SUPPORT and card.choices:
        options = _select_options(card.choices, card.topic)
        if options:
            rows.append(
                [
                    discord.ui.Select(
                        custom_id=ids.make_id(ids.TOPIC_SELECT, card.region),
                        placeholder=words.gettext("Another topic…"),
                        options=options,
                    )
                ]
            )
    if card.region_choices:
        options = _select_options(card.region_choices, card.region)
        if options:
            rows.append(
                [
                    discord.ui.Select(
                        custom_id=ids.make_id(ids.REGION_SELECT, card.topic),
                        placeholder=words.gettext("Your country, for services near you…"),
                        options=options,
                    )
                ]
            )
    report = _report_select(card, words)
    if report is not None:
        rows.append([report])
    buttons: list[discord.ui.Item[discord.ui.View]] = []
    if card.page is not None and card.page.page_count > 1:
        page, count, command = card.page.page, card.page.page_count, card.page.command
        buttons.append(
            discord.ui.Button(
                label=words.gettext("◀ Previous"),
                style=discord.ButtonStyle.secondary,
                custom_id=ids.run_id(f"{command} page:{max(page - 1, 1)}", store, "prev"),
                disabled=page <= 1,
            )
        )
        buttons.append(
            discord.ui.Button(
                label=words.gettext("Next ▶"),
                style=discord.ButtonStyle.secondary,
                custom_id=ids.run_id(f"{command} page:{min(page + 1, count)}", store, "next"),
                disabled=page >= count,
            )
        )
    for index, action in enumerate(card.actions[: PER_ROW - len(buttons)]):
        buttons.append(
            discord.ui.Button(
                label=label(action.label, BUTTON_LABEL_MAX, "Run"),
                style=discord.ButtonStyle.primary,
                # Contact-line buttons have ids of their own (a modal, a key that must
                # outlive the process); every other action runs its line.
                custom_id=ids.contact_id(action.value)
                or ids.run_id(action.value, store, str(index) if index else ""),
            )
        )
    if (
        offer_dm_copy
        and card.tone is CardTone.SUPPORT
        and card.topic
        and card.message_key
        and len(buttons) < PER_ROW
    ):
        custom_id = ids.make_id(ids.DM_COPY, card.topic, card.region, card.message_key)
        if len(custom_id) <= ids.MAX_CUSTOM_ID:
            buttons.append(
                discord.ui.Button(
                    label=words.gettext(DM_BUTTON_LABEL),
                    style=discord.ButtonStyle.secondary,
                    custom_id=custom_id,
                    emoji="✉️",
                )
            )
    rows.append(buttons)
    return rows


def _report_select(card: Card, words: Words) -> discord.ui.Select[discord.ui.View] | None:
    """One menu for every resource's reports (a button each would pass Discord's 5 rows of 5
    components): each option's value is the report's command line, answered privately."""
    choices = tuple(
        Choice(
            label=f"{resource.title}: {report.label}",
            value=report.value,
            description=resource.domain,
        )
        for resource in card.resources
        for report in resource.reports
    )
    options = _select_options(choices, None) if card.tone is CardTone.SUPPORT else []
    if not options:
        return None
    return discord.ui.Select(
        custom_id=ids.make_id(ids.REPORT_SELECT, card.topic),
        placeholder=words.gettext("Report a problem with a resource…"),
        options=options,
    )


class CardRenderer:
    """render_card with a small cache: the same card (same message, topic, region and
    resources, which is most /support answers) reuses its finished embed and view.

    Safe because a sent embed or stopped view is never modified. Only /support answers are
    kept (they hold no personal data and repeat): every other card may hold what must not
    outlive the call (a contact request's text, a dashboard sign-in link). Cards with a file (a
    stream, read once) or with page/action buttons (which may hold expiring tokens) are always
    built.
    """

    def __init__(self, store: ids.ShortLivedStore, capacity: int = 256) -> None:
        self.store = store
        self._capacity = capacity
        self._cache: OrderedDict[tuple[Card, bool, bool], RenderedCard] = OrderedDict()

    def render(
        self, card: Card, *, interactive: bool = True, offer_dm_copy: bool = True
    ) -> RenderedCard:
        if (
            card.tone is not CardTone.SUPPORT
            or card.attachment is not None
            or card.page is not None
            or card.actions
        ):
            return render_card(
                card, self.store, interactive=interactive, offer_dm_copy=offer_dm_copy
            )
        key = (card, interactive, offer_dm_copy)
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        rendered = render_card(
            card, self.store, interactive=interactive, offer_dm_copy=offer_dm_copy
        )
        self._cache[key] = rendered
        if len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        return rendered


def plain_message(text: str) -> str:
    """A short plain answer (acknowledgements), within the 2000-character content limit."""
    return clip(text, 2000)
