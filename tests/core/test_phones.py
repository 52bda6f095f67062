"""The phone rule: numbers read with libphonenumber in the resource's region, refused with a
sentence when they are not numbers there, and linked as people can actually dial them."""

from __future__ import annotations

import pytest

from bot.core.cards import CardTone
from bot.core.content.packs import errors_in, load_default_pack
from bot.core.content.phones import PhoneRefused, read_e164, read_phone, tel_link
from bot.core.models import ContactKind, ItemKind
from tests.core.conftest import Stack
from tests.core.test_packs import check, minimal, only_error

# Every phone contact the default pack ships, with the link a person taps. Written out by hand
# from the organisations' printed numbers: short codes and Australia's 13/1300/1800 numbers are
# dialled without a country code, everything else in E.164.
SHIPPED_TEL_LINKS = {
    ("gb-samaritans", "116 123"): "tel:116123",
    ("gb-mermaids", "0808 801 0400"): "tel:+448088010400",
    ("gb-galop", "0800 999 5428"): "tel:+448009995428",
    ("gb-lgbt-foundation", "0345 3 30 30 30"): "tel:+443453303030",
    ("gb-mind-infoline", "0300 123 3393"): "tel:+443001233393",
    ("gb-childline", "0800 1111"): "tel:+448001111",
    ("ie-samaritans", "116 123"): "tel:116123",
    ("ie-hse-yourmentalhealth", "1800 111 888"): "tel:+3531800111888",
    ("us-988-lifeline", "988"): "tel:988",
    ("us-trevor-project", "1-866-488-7386"): "tel:+18664887386",
    ("us-trans-lifeline", "877-565-8860"): "tel:+18775658860",
    ("us-lgbt-national-hotline", "888-843-4564"): "tel:+18888434564",
    ("ca-988", "988"): "tel:988",
    ("ca-kids-help-phone", "1-800-668-6868"): "tel:+18006686868",
    ("ca-trans-lifeline", "877-330-6366"): "tel:+18773306366",
    ("au-lifeline", "13 11 14"): "tel:131114",
    ("au-qlife", "1800 184 527"): "tel:1800184527",
    ("au-beyond-blue", "1300 22 4636"): "tel:1300224636",
    ("nz-1737", "1737"): "tel:1737",
    ("nz-outline", "0800 OUTLINE (0800 688 5463)"): "tel:+648006885463",
    # Added by the second audit (2026-12-01).
    ("ie-pieta", "1800 247 247"): "tel:+3531800247247",
    ("au-kids-helpline", "1800 55 1800"): "tel:1800551800",
    ("de-telefonseelsorge", "0800 111 0 111"): "tel:+498001110111",
    ("de-telefonseelsorge", "0800 111 0 222"): "tel:+498001110222",
    ("fr-3114", "3114"): "tel:3114",
    ("fr-le-refuge", "06 31 59 69 50"): "tel:+33631596950",
    ("fr-sos-homophobie", "01 48 06 42 41"): "tel:+33148064241",
    ("es-024", "024"): "tel:024",
    ("es-028-arcoiris", "028"): "tel:028",
    ("it-telefono-amico", "02 2327 2327"): "tel:+390223272327",
    ("it-gay-help-line", "800 713 713"): "tel:+39800713713",
    ("nl-113", "0800-0113"): "tel:+318000113",
    ("br-disque-100", "100"): "tel:100",
    ("mx-linea-de-la-vida", "800 911 2000"): "tel:+528009112000",
    ("mx-diversidad-segura", "800 000 5428"): "tel:+528000005428",
    ("in-tele-manas", "1-800-891-4416"): "tel:18008914416",
    ("ph-ncmh", "0919-057-1553"): "tel:+639190571553",
    ("ph-ncmh", "0917-899-8727"): "tel:+639178998727",
    ("pl-centrum-wsparcia", "800 70 2222"): "tel:+48800702222",
    ("pl-centrum-wsparcia", "116 123"): "tel:116123",
    ("pl-lambda-warszawa", "22 628 52 22"): "tel:+48226285222",
}


def test_every_shipped_phone_validates_and_links_to_the_number_printed() -> None:
    pack = load_default_pack()
    found = {}
    for resource in pack.resources:
        for contact in resource.contacts:
            if contact.kind is ContactKind.PHONE:
                phone = read_phone(contact.display, resource.regions)
                assert phone is not None, (resource.key, contact.display)
                assert phone.e164 == contact.e164, (resource.key, contact.display)
                found[(resource.key, contact.display)] = tel_link(
                    contact.e164, contact.display, resource.regions
                )
    assert found == SHIPPED_TEL_LINKS


@pytest.mark.parametrize(
    ("display", "region", "e164", "tel"),
    [
        # Letters on the keypad are digits: not dropped, as stripping non-digits did.
        ("+1-800-273-TALK", "US", "+18002738255", "tel:+18002738255"),
        # The (0) trunk prefix is not dialled after +44.
        ("+44 (0) 20 7946 0000", "GB", "+442079460000", "tel:+442079460000"),
        ("020 7946 0000", "GB", "+442079460000", "tel:+442079460000"),
        ("116 123", "GB", "+44116123", "tel:116123"),
        ("116 123", "IE", "+353116123", "tel:116123"),
        ("988", "US", "+1988", "tel:988"),
        ("999", "GB", "+44999", "tel:999"),
        ("0800 1111", "GB", "+448001111", "tel:+448001111"),
        # Meaningful leading zeros survive (Australia's emergency number).
        ("000", "AU", "+61000", "tel:000"),
        ("13 11 14", "AU", "+61131114", "tel:131114"),
        ("0800 OUTLINE (0800 688 5463)", "NZ", "+648006885463", "tel:+648006885463"),
    ],
)
def test_numbers_are_read_in_the_region_and_linked_as_dialled(
    display: str, region: str, e164: str, tel: str
) -> None:
    phone = read_phone(display, [region])
    assert phone is not None
    assert (phone.e164, phone.tel) == (e164, tel)


@pytest.mark.parametrize(
    ("display", "regions", "says"),
    [
        ("abc", ["GB"], "'abc' is not a phone number"),
        ("abc", ["global"], "'abc' is not a phone number"),
        ("988", ["GB"], "is not a valid phone number in United Kingdom (GB)"),
        ("0800 0119 100", ["IE"], "in Ireland (IE)"),
        ("0800 12", ["GB"], "check every digit"),
        ("+44 20 7946", ["GB"], "check every digit and the country code"),
        ("0800 111 0 111 or 0800 111 0 222", ["DE"], "shows 2 numbers"),
    ],
)
def test_what_is_not_a_number_there_is_refused_with_a_sentence(
    display: str, regions: list[str], says: str
) -> None:
    with pytest.raises(PhoneRefused) as refused:
        read_phone(display, regions)
    assert says in str(refused.value)


def test_the_first_country_region_decides_and_worldwide_needs_a_plus() -> None:
    # GB first: 116 123 is read as British (and works in Ireland the same way).
    phone = read_phone("116 123", ["global", "GB", "IE"])
    assert phone is not None and phone.e164 == "+44116123"
    # A worldwide resource cannot say which country a national number belongs to: text only.
    assert read_phone("0800 0119 100", ["global"]) is None
    assert tel_link(None, "0800 0119 100", ["global"]) is None
    worldwide = read_phone("+44 800 0119 100", ["global"])
    assert worldwide is not None and worldwide.tel == "tel:+448000119100"


def test_a_contact_stored_by_the_old_rule_links_by_its_display() -> None:
    # Stripping non-digits stored +1800273 for +1-800-273-TALK; what is printed wins.
    assert tel_link("+1800273", "+1-800-273-TALK", ["US"]) == "tel:+18002738255"
    # A short code stored with no number (packs before this rule) still links.
    assert tel_link(None, "988", ["US"]) == "tel:988"
    # A display that is not a number falls back to the stored one.
    assert tel_link("+4485258", "Text SHOUT to 85258", ["GB"]) == "tel:85258"


def test_e164_values_are_checked_as_numbers() -> None:
    assert read_e164("+1988").tel == "tel:988"
    with pytest.raises(PhoneRefused, match="not a valid phone number"):
        read_e164("+4420")
    with pytest.raises(PhoneRefused, match=r"not in E\.164 form"):
        read_e164("abc")


# --- the moderator path ---------------------------------------------------------------------


async def _add(stack: Stack, **options: str) -> tuple[CardTone, str]:
    fields = {
        "title": "Line",
        "url": "https://line.example.org",
        "topics": "crisis",
        "regions": "GB",
        "crisis": "yes",
    }
    fields.update(options)
    card = await stack.router.admin(stack.ctx(), "resource", "add", fields)
    return card.tone, card.body + " ".join(card.lines)


@pytest.mark.parametrize(
    ("phone", "regions", "e164"),
    [
        ("+1-800-273-TALK", "US", "+18002738255"),
        ("+44 (0) 20 7946 0000", "GB", "+442079460000"),
        ("116 123", "GB", "+44116123"),
        ("988", "US", "+1988"),
        ("0800 1111", "GB", "+448001111"),
    ],
)
async def test_resource_add_stores_the_number_libphonenumber_reads(
    stack: Stack, phone: str, regions: str, e164: str
) -> None:
    tone, text = await _add(stack, phone=phone, regions=regions, key="line")
    assert tone is CardTone.SUCCESS, text
    resource = await stack.curation.get(stack.ctx(), ItemKind.RESOURCE, "line")
    assert [(c.display, c.e164) for c in resource.contacts] == [(phone, e164)]


async def test_resource_add_refuses_phone_abc_with_a_sentence(stack: Stack) -> None:
    tone, text = await _add(stack, phone="abc")
    assert tone is CardTone.ERROR
    assert "phone: 'abc' is not a phone number; write it like 116 123" in text


async def test_a_number_from_another_country_is_refused_for_the_region(stack: Stack) -> None:
    tone, text = await _add(stack, phone="988", regions="GB")
    assert tone is CardTone.ERROR
    assert "phone: '988' is not a valid phone number in United Kingdom (GB)" in text


async def test_changing_regions_reads_the_kept_phone_again(stack: Stack) -> None:
    tone, text = await _add(stack, phone="116 123", regions="GB", key="line")
    assert tone is CardTone.SUCCESS, text
    ctx = stack.ctx()
    moved = await stack.router.admin(ctx, "resource", "edit", {"key": "line", "regions": "IE"})
    assert moved.tone is CardTone.SUCCESS
    resource = await stack.curation.get(ctx, ItemKind.RESOURCE, "line")
    assert resource.contacts[0].e164 == "+353116123"
    refused = await stack.router.admin(ctx, "resource", "edit", {"key": "line", "regions": "US"})
    assert refused.tone is CardTone.ERROR
    assert "in United States (US)" in refused.body + " ".join(refused.lines)


async def test_support_answer_links_a_short_code_as_dialled(stack: Stack) -> None:
    tone, text = await _add(stack, phone="116 123", key="line")
    assert tone is CardTone.SUCCESS, text
    card = await stack.support.reply(stack.ctx(), "crisis", "GB")
    links = {
        contact.display: contact.link
        for resource in card.resources
        if resource.title == "Line"
        for contact in resource.contacts
    }
    assert links == {"116 123": "tel:116123"}


# --- pack checks ----------------------------------------------------------------------------


def _with_phone(display: str, e164: str | None = None, regions: list[str] | None = None) -> dict:
    data = minimal()
    contact: dict[str, str] = {"kind": "phone", "display": display}
    if e164 is not None:
        contact["e164"] = e164
    data["resources"][0]["contacts"][0] = contact
    if regions is not None:
        data["resources"][0]["regions"] = regions
    return data


def test_a_pack_phone_without_e164_gets_the_number_read_from_its_display() -> None:
    pack, problems = check(_with_phone("988", regions=["US"]))
    assert errors_in(problems) == [], [str(p) for p in problems]
    assert pack is not None
    assert pack.resources[0].contacts[0].e164 == "+1988"


def test_a_pack_phone_that_is_not_a_number_is_refused_at_its_display() -> None:
    problem = only_error(_with_phone("abc"))
    assert problem.place == "resources[0].contacts[0].display"
    assert "'abc' is not a phone number" in problem.message


def test_a_pack_e164_that_disagrees_with_the_display_names_both() -> None:
    problem = only_error(_with_phone("+1-800-273-TALK", "+1800273", regions=["US"]))
    assert problem.place == "resources[0].contacts[0].e164"
    assert "does not match the number shown ('+1-800-273-TALK', which is +18002738255)" in (
        problem.message
    )


def test_a_pack_text_contact_number_is_checked_against_its_display() -> None:
    data = minimal()
    data["resources"][0]["contacts"][1] = {
        "kind": "text",
        "display": "Text SHOUT to 85258",
        "e164": "+4485259",
    }
    problem = only_error(data)
    assert problem.place == "resources[0].contacts[1].e164"
    assert "does not match" in problem.message
