"""Card: the neutral outgoing message that every adapter renders (embed, Block Kit, terminal).

Everything in a Card is already validated and made inert (no live mentions), and fits the
strictest platform limit, so a renderer only lays it out.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.core.i18n import translator


class CardTone(enum.StrEnum):
    SUPPORT = "support"
    INFO = "info"
    SUCCESS = "success"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class CardContact:
    """A contact as shown: `label` is the channel in words ("Call", "Text"), `display` the
    organisation's own form, `link` a tel:/sms:/mailto: or https link where one exists."""

    label: str
    display: str
    link: str | None = None


@dataclass(frozen=True, slots=True)
class CardResource:
    title: str
    url: str
    # The link's host, always shown beside the title so a label cannot hide where it goes.
    domain: str
    description: str = ""
    contacts: tuple[CardContact, ...] = ()
    hours: str = ""
    # Short facts a reader should see at once, e.g. "24/7", "not a crisis line".
    badges: tuple[str, ...] = ()
    last_verified: str = ""
    # What a reader can report about it ("This link is broken"), each `value` the command
    # line that counts the report (bot/core/content/reports.py); the adapter offers them.
    reports: tuple[Choice, ...] = ()

    def report_hint(self, locale: str = "en") -> str:
        """The reports as one line to type, for a text-only renderer (the console):
        "Report a problem: /support-report <key> <number|link|hours>"."""
        if not self.reports:
            return ""
        kinds = "|".join(c.value.rsplit(" ", 1)[-1] for c in self.reports)
        line = f"{self.reports[0].value.rsplit(' ', 1)[0]} <{kinds}>"
        return translator(locale).gettext("Report a problem: {line}").format(line=line)


@dataclass(frozen=True, slots=True)
class Choice:
    """A suggested next choice (a topic, a region, a command) the adapter may offer as a menu."""

    label: str
    value: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class PageRef:
    """Where a paged list is: adapters render previous/next controls from it."""

    page: int
    page_count: int
    # The command path that produced the page, so the adapter can ask for another page.
    command: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with the card (a pack export)."""

    filename: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Card:
    title: str
    body: str = ""
    tone: CardTone = CardTone.INFO
    resources: tuple[CardResource, ...] = ()
    # Name/value pairs (settings, an item's fields).
    fields: tuple[tuple[str, str], ...] = ()
    # Plain lines (a list page, a history, a diff).
    lines: tuple[str, ...] = ()
    footer: str = ""
    # Suggested topics to switch to (support cards) or valid values (error cards).
    choices: tuple[Choice, ...] = ()
    # What `choices` are, for whoever lists them ("Closest time zones"); topics by default.
    choices_label: str = ""
    # Regions to pick from when none is known (support cards without a region).
    region_choices: tuple[Choice, ...] = ()
    page: PageRef | None = None
    # The topic a support card answers, so adapters can mark it in a topic menu.
    topic: str | None = None
    # The region a support card was answered for (None when unknown).
    region: str | None = None
    # The message shown, so "send me a copy" can reproduce this card exactly.
    message_key: str | None = None
    # Buttons: `value` is a command line the adapter runs through CommandRouter.run_text
    # (e.g. "/support-admin pack apply token:abc"), so every platform behaves the same.
    actions: tuple[Choice, ...] = ()
    attachment: Attachment | None = None
    # The one language of the card (a support card's message and resources, chosen by
    # bot/core/content/localised.py), which a renderer's own words (buttons, menus, "Hours")
    # follow too, so a card never mixes two. Chosen per request; never stored.
    locale: str = "en"

    def plain_text(self) -> str:
        """A readable plain-text form: the console renderer and every platform's fallback."""
        words = translator(self.locale)
        parts: list[str] = [self.title]
        if self.body:
            parts.append(self.body)
        for name, value in self.fields:
            parts.append(f"{name}: {value}")
        parts.extend(self.lines)
        for resource in self.resources:
            head = f"• {resource.title} ({resource.domain})"
            if resource.badges:
                head += " [" + ", ".join(resource.badges) + "]"
            parts.append(head)
            if resource.description:
                parts.append(f"  {resource.description}")
            for contact in resource.contacts:
                parts.append(f"  {contact.label}: {contact.display}")
            if resource.hours:
                parts.append("  " + words.gettext("Hours: {hours}").format(hours=resource.hours))
            parts.append(f"  {resource.url}")
            if resource.reports:
                parts.append(f"  {resource.report_hint(self.locale)}")
        if self.region_choices:
            parts.append(
                words.gettext("Choose your country for local services: {codes}").format(
                    codes=", ".join(c.value for c in self.region_choices)
                )
            )
        if self.choices:
            label = self.choices_label or words.gettext("Other topics")
            parts.append(f"{label}: " + ", ".join(c.value for c in self.choices))
        if self.page and self.page.page_count > 1:
            parts.append(
                words.gettext("Page {page} of {count}").format(
                    page=self.page.page, count=self.page.page_count
                )
            )
        if self.footer:
            parts.append(self.footer)
        return "\n".join(parts)
