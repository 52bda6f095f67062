"""Phone numbers: the one rule for reading, checking and linking a helpline's number.

People in crisis tap these numbers, so a wrong digit is the worst mistake Haven can make. The
rule, used by moderators' commands, pack checks and every rendered `tel:` link:

- the display text is kept exactly as the organisation prints it (`0800 OUTLINE (0800 688
  5463)`, `1-866-488-7386`); the number behind it is read with libphonenumber (`phonenumbers`),
  never by stripping non-digits (which turned `+1-800-273-TALK` into `+1800273`);
- a number without `+` is read as dialled in the resource's region: its first country region.
  A worldwide resource has no such region, so its number must start with `+` to be linked; a
  national-looking number there is shown as text only;
- a number must be valid for that region (libphonenumber's metadata), or a valid short number
  there (116 123 in GB and IE, 988 in the US and CA, 1737 in NZ, 999): anything else is refused
  with a sentence;
- a full number is stored and linked in E.164 (`+448000119100`, `tel:+448000119100`). A short
  number is stored with its country code too (`+44116123`, so one field says where it works) but
  linked as the country's own dialling (`tel:116123`): short codes cannot be dialled with a
  country code. So are the full numbers libphonenumber marks as not internationally diallable
  (Australia's `13 11 14` links as `tel:131114`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, shortnumberinfo

from bot.core.content.regions import is_region_code, region_name
from bot.core.models import GLOBAL_REGION

EXAMPLE = "116 123 or +44 800 0119 100"


class PhoneRefused(ValueError):
    """A phone number Haven will not link; the message is a sentence for the person who typed
    it, without the field name (callers add `phone:` or the pack place)."""


@dataclass(frozen=True, slots=True)
class Phone:
    """A number read from its display text."""

    # E.164 for a full number; country code plus the short digits for a short number.
    e164: str
    # Short numbers (116 123, 988) work only inside their country and without the country code.
    short: bool
    # The digits to dial: the E.164 form, or the number as dialled in its country where the
    # country code would not reach it.
    dial: str

    @property
    def tel(self) -> str:
        return f"tel:{self.dial}"


def dialling_region(regions: Sequence[str]) -> str | None:
    """The region a number without `+` is dialled from: the resource's first country region;
    None for a worldwide-only resource."""
    for region in regions:
        if region != GLOBAL_REGION and is_region_code(region):
            return region
    return None


def _phone(number: PhoneNumber, region: str | None) -> Phone | None:
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if phonenumbers.is_valid_number(number):
        if phonenumbers.can_be_internationally_dialled(number):
            return Phone(e164=e164, short=False, dial=e164)
        # Australia's 13 11 14 and 1800 numbers are not reachable with +61: dial them the way
        # the country does (libphonenumber knows which ranges these are).
        home = phonenumbers.region_code_for_number(number)
        national = (
            phonenumbers.format_number_for_mobile_dialing(number, home, False) if home else ""
        )
        return Phone(e164=e164, short=False, dial=national or e164)
    # A short number is only valid where it is dialled: 988 is a US and Canadian code, not a
    # British one. With no region (a `+` number) the number's own country code decides.
    short_valid = (
        shortnumberinfo.is_valid_short_number_for_region(number, region)
        if region
        else shortnumberinfo.is_valid_short_number(number)
    )
    if short_valid:
        # national_significant_number keeps meaningful leading zeros (Australia's 000).
        return Phone(e164=e164, short=True, dial=phonenumbers.national_significant_number(number))
    return None


def _where(region: str | None) -> str:
    return f" in {region_name(region)} ({region})" if region else ""


def read_phone(display: str, regions: Sequence[str]) -> Phone | None:
    """The number behind `display` for a resource in `regions`; None when it can only be shown
    as text (a worldwide resource's national number). Raises PhoneRefused with the reason."""
    text = display.strip()
    region = dialling_region(regions)
    international = text.startswith("+")
    if region is None and not international:
        if not any(ch.isdigit() for ch in text):
            raise PhoneRefused(f"'{display}' is not a phone number; write it like {EXAMPLE}.")
        return None
    parse_region = None if international else region
    try:
        number = phonenumbers.parse(text, parse_region)
    except NumberParseException:
        number = None
    phone = _phone(number, None if international else region) if number is not None else None
    if phone is not None:
        return phone
    # A display that names the number in words as well (`0800 OUTLINE (0800 688 5463)`): use
    # the one valid number libphonenumber finds in it, never a guess between two.
    found = {
        phonenumbers.format_number(match.number, PhoneNumberFormat.E164): match.number
        for match in phonenumbers.PhoneNumberMatcher(
            text, parse_region or region, leniency=phonenumbers.Leniency.VALID
        )
    }
    if len(found) == 1:
        only = _phone(next(iter(found.values())), None)
        if only is not None:
            return only
    if len(found) > 1:
        raise PhoneRefused(
            f"'{display}' shows {len(found)} numbers; give one number per phone contact."
        )
    if number is None:
        raise PhoneRefused(f"'{display}' is not a phone number; write it like {EXAMPLE}.")
    if international:
        raise PhoneRefused(
            f"'{display}' is not a valid phone number; check every digit and the country code."
        )
    raise PhoneRefused(
        f"'{display}' is not a valid phone number{_where(region)}; check every digit, or "
        "write it with its country code (+...) if it is another country's number."
    )


def read_e164(value: str) -> Phone:
    """A stored or typed E.164 value (`+448000119100`, `+44116123`) checked the same way."""
    try:
        number = phonenumbers.parse(value, None)
    except NumberParseException as exc:
        raise PhoneRefused(f"'{value}' is not in E.164 form; write it like +448000119100.") from exc
    phone = _phone(number, None)
    if phone is None:
        raise PhoneRefused(f"'{value}' is not a valid phone number; check every digit.")
    return phone


@functools.lru_cache(maxsize=4096)
def _tel_from_e164(e164: str) -> str | None:
    try:
        return read_e164(e164).tel
    except PhoneRefused:
        return None


@functools.lru_cache(maxsize=4096)
def _tel_from_display(display: str, regions: tuple[str, ...]) -> str | None:
    try:
        phone = read_phone(display, regions)
    except PhoneRefused:
        return None
    return phone.tel if phone else None


def tel_link(e164: str | None, display: str, regions: Sequence[str]) -> str | None:
    """The `tel:` link for a phone contact, or None when there is no number to trust.

    What the organisation prints comes first, so a contact stored before this rule (no number,
    or one made by stripping non-digits) links right; the stored number is used where the
    display cannot be read as one (`Text SHOUT to 85258`, a worldwide resource's number)."""
    link = _tel_from_display(display, tuple(regions))
    return link or (_tel_from_e164(e164) if e164 else None)
