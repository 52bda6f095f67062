"""Countries and territories people can pick for `/support`: ISO 3166-1 codes, names, aliases.

Helplines are national, so a region is how Haven chooses the right numbers. People type what they
call their country, in their own language ("UK", "England", "Aotearoa", "Alemania",
"Deutschland", "Allemagne"); Haven stores the ISO 3166-1 alpha-2 code ("GB", "NZ", "DE").
Country names come from CLDR through Babel, in every shipped language: a name in any of them is
understood, and names are shown in the reader's language. CLDR lacks some everyday names ("UK",
"England", "Holland") and ISO's official long forms ("Korea, Republic of"): those are the
short lists below. Kosovo's widely used user-assigned code XK is a country here, as in CLDR.
"""

from __future__ import annotations

import difflib
import functools
import unicodedata
from collections.abc import Collection

from babel import Locale

from bot.core.errors import UnknownChoice
from bot.core.i18n import N_, catalog_dir, shipped_locale, translator
from bot.core.locales import SHIPPED_LOCALES, SOURCE_LOCALE
from bot.core.models import GLOBAL_REGION

# CLDR territory codes that are no country ISO 3166-1 assigns (the EU, the UN, "unknown
# region", pseudo-locales, and CLDR's own codes for Ascension, Clipperton, Sark, Diego Garcia,
# Ceuta and Melilla, the Canaries and Tristan da Cunha, which belong to a listed country).
_NOT_COUNTRIES = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
)


def _cldr_names(locale: str) -> dict[str, str]:
    territories = Locale.parse(catalog_dir(locale)).territories
    return {
        code: name
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    }


# Code -> English name (CLDR): every code Haven accepts. Other languages are read on first use.
REGION_NAMES: dict[str, str] = _cldr_names(SOURCE_LOCALE)


@functools.cache
def region_names(locale: str) -> dict[str, str]:
    """Code -> name in a shipped locale (CLDR), English where CLDR has no name."""
    if locale == SOURCE_LOCALE:
        return REGION_NAMES
    names = _cldr_names(locale)
    return {code: names.get(code, english) for code, english in REGION_NAMES.items()}


# ISO 3166-1 alpha-3 codes and official long names (Debian iso-codes), which CLDR lacks.
_ISO_ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "AD": ("AND", "Principality of Andorra"),
    "AE": ("ARE",),
    "AF": ("AFG", "Islamic Republic of Afghanistan"),
    "AG": ("ATG",),
    "AI": ("AIA",),
    "AL": ("ALB", "Republic of Albania"),
    "AM": ("ARM", "Republic of Armenia"),
    "AO": ("AGO", "Republic of Angola"),
    "AQ": ("ATA",),
    "AR": ("ARG", "Argentine Republic"),
    "AS": ("ASM",),
    "AT": ("AUT", "Republic of Austria"),
    "AU": ("AUS",),
    "AW": ("ABW",),
    "AX": ("ALA",),
    "AZ": ("AZE", "Republic of Azerbaijan"),
    "BA": ("BIH", "Republic of Bosnia and Herzegovina"),
    "BB": ("BRB",),
    "BD": ("BGD", "People's Republic of Bangladesh"),
    "BE": ("BEL", "Kingdom of Belgium"),
    "BF": ("BFA",),
    "BG": ("BGR", "Republic of Bulgaria"),
    "BH": ("BHR", "Kingdom of Bahrain"),
    "BI": ("BDI", "Republic of Burundi"),
    "BJ": ("BEN", "Republic of Benin"),
    "BL": ("BLM",),
    "BM": ("BMU",),
    "BN": ("BRN", "Brunei Darussalam"),
    "BO": ("BOL", "Bolivia, Plurinational State of", "Plurinational State of Bolivia"),
    "BQ": ("BES",),
    "BR": ("BRA", "Federative Republic of Brazil"),
    "BS": ("BHS", "Commonwealth of the Bahamas"),
    "BT": ("BTN", "Kingdom of Bhutan"),
    "BV": ("BVT",),
    "BW": ("BWA", "Republic of Botswana"),
    "BY": ("BLR", "Republic of Belarus"),
    "BZ": ("BLZ",),
    "CA": ("CAN",),
    "CC": ("CCK",),
    "CD": ("COD", "Congo, The Democratic Republic of the"),
    "CF": ("CAF",),
    "CG": ("COG", "Republic of the Congo"),
    "CH": ("CHE", "Swiss Confederation"),
    "CI": ("CIV", "Republic of Côte d'Ivoire"),
    "CK": ("COK",),
    "CL": ("CHL", "Republic of Chile"),
    "CM": ("CMR", "Republic of Cameroon"),
    "CN": ("CHN", "People's Republic of China"),
    "CO": ("COL", "Republic of Colombia"),
    "CR": ("CRI", "Republic of Costa Rica"),
    "CU": ("CUB", "Republic of Cuba"),
    "CV": ("CPV", "Republic of Cabo Verde"),
    "CW": ("CUW",),
    "CX": ("CXR",),
    "CY": ("CYP", "Republic of Cyprus"),
    "CZ": ("CZE", "Czech Republic"),
    "DE": ("DEU", "Federal Republic of Germany"),
    "DJ": ("DJI", "Republic of Djibouti"),
    "DK": ("DNK", "Kingdom of Denmark"),
    "DM": ("DMA", "Commonwealth of Dominica"),
    "DO": ("DOM",),
    "DZ": ("DZA", "People's Democratic Republic of Algeria"),
    "EC": ("ECU", "Republic of Ecuador"),
    "EE": ("EST", "Republic of Estonia"),
    "EG": ("EGY", "Arab Republic of Egypt"),
    "EH": ("ESH",),
    "ER": ("ERI", "the State of Eritrea"),
    "ES": ("ESP", "Kingdom of Spain"),
    "ET": ("ETH", "Federal Democratic Republic of Ethiopia"),
    "FI": ("FIN", "Republic of Finland"),
    "FJ": ("FJI", "Republic of Fiji"),
    "FK": ("FLK", "Falkland Islands (Malvinas)"),
    "FM": ("FSM", "Federated States of Micronesia", "Micronesia, Federated States of"),
    "FO": ("FRO",),
    "FR": ("FRA", "French Republic"),
    "GA": ("GAB", "Gabonese Republic"),
    "GB": ("GBR", "United Kingdom of Great Britain and Northern Ireland"),
    "GD": ("GRD",),
    "GE": ("GEO",),
    "GF": ("GUF",),
    "GG": ("GGY",),
    "GH": ("GHA", "Republic of Ghana"),
    "GI": ("GIB",),
    "GL": ("GRL",),
    "GM": ("GMB", "Republic of the Gambia"),
    "GN": ("GIN", "Republic of Guinea"),
    "GP": ("GLP",),
    "GQ": ("GNQ", "Republic of Equatorial Guinea"),
    "GR": ("GRC", "Hellenic Republic"),
    "GS": ("SGS",),
    "GT": ("GTM", "Republic of Guatemala"),
    "GU": ("GUM",),
    "GW": ("GNB", "Republic of Guinea-Bissau"),
    "GY": ("GUY", "Republic of Guyana"),
    "HK": ("HKG", "Hong Kong Special Administrative Region of China"),
    "HM": ("HMD",),
    "HN": ("HND", "Republic of Honduras"),
    "HR": ("HRV", "Republic of Croatia"),
    "HT": ("HTI", "Republic of Haiti"),
    "HU": ("HUN",),
    "ID": ("IDN", "Republic of Indonesia"),
    "IE": ("IRL",),
    "IL": ("ISR", "State of Israel"),
    "IM": ("IMN",),
    "IN": ("IND", "Republic of India"),
    "IO": ("IOT",),
    "IQ": ("IRQ", "Republic of Iraq"),
    "IR": ("IRN", "Iran, Islamic Republic of", "Islamic Republic of Iran"),
    "IS": ("ISL", "Republic of Iceland"),
    "IT": ("ITA", "Italian Republic"),
    "JE": ("JEY",),
    "JM": ("JAM",),
    "JO": ("JOR", "Hashemite Kingdom of Jordan"),
    "JP": ("JPN",),
    "KE": ("KEN", "Republic of Kenya"),
    "KG": ("KGZ", "Kyrgyz Republic"),
    "KH": ("KHM", "Kingdom of Cambodia"),
    "KI": ("KIR", "Republic of Kiribati"),
    "KM": ("COM", "Union of the Comoros"),
    "KN": ("KNA",),
    "KP": (
        "PRK",
        "Democratic People's Republic of Korea",
        "Korea, Democratic People's Republic of",
    ),
    "KR": ("KOR", "Korea, Republic of"),
    "KW": ("KWT", "State of Kuwait"),
    "KY": ("CYM",),
    "KZ": ("KAZ", "Republic of Kazakhstan"),
    "LA": ("LAO", "Lao People's Democratic Republic"),
    "LB": ("LBN", "Lebanese Republic"),
    "LC": ("LCA",),
    "LI": ("LIE", "Principality of Liechtenstein"),
    "LK": ("LKA", "Democratic Socialist Republic of Sri Lanka"),
    "LR": ("LBR", "Republic of Liberia"),
    "LS": ("LSO", "Kingdom of Lesotho"),
    "LT": ("LTU", "Republic of Lithuania"),
    "LU": ("LUX", "Grand Duchy of Luxembourg"),
    "LV": ("LVA", "Republic of Latvia"),
    "LY": ("LBY",),
    "MA": ("MAR", "Kingdom of Morocco"),
    "MC": ("MCO", "Principality of Monaco"),
    "MD": ("MDA", "Moldova, Republic of", "Republic of Moldova"),
    "ME": ("MNE",),
    "MF": ("MAF",),
    "MG": ("MDG", "Republic of Madagascar"),
    "MH": ("MHL", "Republic of the Marshall Islands"),
    "MK": ("MKD", "Republic of North Macedonia"),
    "ML": ("MLI", "Republic of Mali"),
    "MM": ("MMR", "Republic of Myanmar"),
    "MN": ("MNG",),
    "MO": ("MAC", "Macao Special Administrative Region of China"),
    "MP": ("MNP", "Commonwealth of the Northern Mariana Islands"),
    "MQ": ("MTQ",),
    "MR": ("MRT", "Islamic Republic of Mauritania"),
    "MS": ("MSR",),
    "MT": ("MLT", "Republic of Malta"),
    "MU": ("MUS", "Republic of Mauritius"),
    "MV": ("MDV", "Republic of Maldives"),
    "MW": ("MWI", "Republic of Malawi"),
    "MX": ("MEX", "United Mexican States"),
    "MY": ("MYS",),
    "MZ": ("MOZ", "Republic of Mozambique"),
    "NA": ("NAM", "Republic of Namibia"),
    "NC": ("NCL",),
    "NE": ("NER", "Republic of the Niger"),
    "NF": ("NFK",),
    "NG": ("NGA", "Federal Republic of Nigeria"),
    "NI": ("NIC", "Republic of Nicaragua"),
    "NL": ("NLD", "Kingdom of the Netherlands"),
    "NO": ("NOR", "Kingdom of Norway"),
    "NP": ("NPL", "Federal Democratic Republic of Nepal"),
    "NR": ("NRU", "Republic of Nauru"),
    "NU": ("NIU",),
    "NZ": ("NZL",),
    "OM": ("OMN", "Sultanate of Oman"),
    "PA": ("PAN", "Republic of Panama"),
    "PE": ("PER", "Republic of Peru"),
    "PF": ("PYF",),
    "PG": ("PNG", "Independent State of Papua New Guinea"),
    "PH": ("PHL", "Republic of the Philippines"),
    "PK": ("PAK", "Islamic Republic of Pakistan"),
    "PL": ("POL", "Republic of Poland"),
    "PM": ("SPM",),
    "PN": ("PCN",),
    "PR": ("PRI",),
    "PS": ("PSE", "Palestine, State of", "the State of Palestine"),
    "PT": ("PRT", "Portuguese Republic"),
    "PW": ("PLW", "Republic of Palau"),
    "PY": ("PRY", "Republic of Paraguay"),
    "QA": ("QAT", "State of Qatar"),
    "RE": ("REU",),
    "RO": ("ROU",),
    "RS": ("SRB", "Republic of Serbia"),
    "RU": ("RUS", "Russian Federation"),
    "RW": ("RWA", "Rwandese Republic"),
    "SA": ("SAU", "Kingdom of Saudi Arabia"),
    "SB": ("SLB",),
    "SC": ("SYC", "Republic of Seychelles"),
    "SD": ("SDN", "Republic of the Sudan"),
    "SE": ("SWE", "Kingdom of Sweden"),
    "SG": ("SGP", "Republic of Singapore"),
    "SH": ("SHN",),
    "SI": ("SVN", "Republic of Slovenia"),
    "SJ": ("SJM",),
    "SK": ("SVK", "Slovak Republic"),
    "SL": ("SLE", "Republic of Sierra Leone"),
    "SM": ("SMR", "Republic of San Marino"),
    "SN": ("SEN", "Republic of Senegal"),
    "SO": ("SOM", "Federal Republic of Somalia"),
    "SR": ("SUR", "Republic of Suriname"),
    "SS": ("SSD", "Republic of South Sudan"),
    "ST": ("STP", "Democratic Republic of Sao Tome and Principe"),
    "SV": ("SLV", "Republic of El Salvador"),
    "SX": ("SXM",),
    "SY": ("SYR", "Syrian Arab Republic"),
    "SZ": ("SWZ", "Kingdom of Eswatini"),
    "TC": ("TCA",),
    "TD": ("TCD", "Republic of Chad"),
    "TF": ("ATF",),
    "TG": ("TGO", "Togolese Republic"),
    "TH": ("THA", "Kingdom of Thailand"),
    "TJ": ("TJK", "Republic of Tajikistan"),
    "TK": ("TKL",),
    "TL": ("TLS", "Democratic Republic of Timor-Leste"),
    "TM": ("TKM",),
    "TN": ("TUN", "Republic of Tunisia"),
    "TO": ("TON", "Kingdom of Tonga"),
    "TR": ("TUR", "Republic of Türkiye"),
    "TT": ("TTO", "Republic of Trinidad and Tobago"),
    "TV": ("TUV",),
    "TW": ("TWN", "Taiwan, Province of China"),
    "TZ": ("TZA", "Tanzania, United Republic of", "United Republic of Tanzania"),
    "UA": ("UKR",),
    "UG": ("UGA", "Republic of Uganda"),
    "UM": ("UMI",),
    "US": ("USA", "United States of America"),
    "UY": ("URY", "Eastern Republic of Uruguay"),
    "UZ": ("UZB", "Republic of Uzbekistan"),
    "VA": ("VAT", "Holy See (Vatican City State)"),
    "VC": ("VCT",),
    "VE": ("VEN", "Bolivarian Republic of Venezuela", "Venezuela, Bolivarian Republic of"),
    "VG": ("VGB", "Virgin Islands, British"),
    "VI": ("VIR", "Virgin Islands of the United States", "Virgin Islands, U.S."),
    "VN": ("VNM", "Socialist Republic of Viet Nam", "Viet Nam"),
    "VU": ("VUT", "Republic of Vanuatu"),
    "WF": ("WLF",),
    "WS": ("WSM", "Independent State of Samoa"),
    "XK": ("XKX", "Republic of Kosovo"),
    "YE": ("YEM", "Republic of Yemen"),
    "YT": ("MYT",),
    "ZA": ("ZAF", "Republic of South Africa"),
    "ZM": ("ZMB", "Republic of Zambia"),
    "ZW": ("ZWE", "Republic of Zimbabwe"),
}

# What people call their country that is neither its ISO name nor its code. "UK" is the classic
# trap: it is not an ISO 3166-1 code, yet it is what most people in Britain type.
_EXTRA_ALIASES: dict[str, str] = {
    "UK": "GB",
    "U.K.": "GB",
    "Great Britain": "GB",
    "Britain": "GB",
    "England": "GB",
    "Scotland": "GB",
    "Wales": "GB",
    "Cymru": "GB",
    "Northern Ireland": "GB",
    # The nations of the UK in the other shipped languages (CLDR names only the state).
    "Inglaterra": "GB",
    "Angleterre": "GB",
    "Escocia": "GB",
    "Escócia": "GB",
    "Écosse": "GB",
    "Schottland": "GB",
    "Gales": "GB",
    "País de Gales": "GB",
    "Pays de Galles": "GB",
    "Irlanda del Norte": "GB",
    "Irlanda do Norte": "GB",
    "Irlande du Nord": "GB",
    "Nordirland": "GB",
    "USA": "US",
    "U.S.": "US",
    "U.S.A.": "US",
    "United States of America": "US",
    "America": "US",
    "Aotearoa": "NZ",
    "Aotearoa New Zealand": "NZ",
    "Eire": "IE",
    "Republic of Ireland": "IE",
    "Holland": "NL",
    "Netherlands": "NL",
    "Czech Republic": "CZ",
    "Turkey": "TR",
    "Ivory Coast": "CI",
    "Swaziland": "SZ",
    "Cape Verde": "CV",
    "East Timor": "TL",
    "Burma": "MM",
    "Macedonia": "MK",
    "Vatican": "VA",
    "Holy See": "VA",
    "DRC": "CD",
    "DR Congo": "CD",
    "Congo-Kinshasa": "CD",
    "Congo-Brazzaville": "CG",
    "Republic of Korea": "KR",
    "UAE": "AE",
    "Emirates": "AE",
    "Deutschland": "DE",
    "España": "ES",
    "Brasil": "BR",
    "México": "MX",
    "Österreich": "AT",
    "Schweiz": "CH",
    "Suisse": "CH",
    "Sverige": "SE",
    "Norge": "NO",
    "Danmark": "DK",
    "Suomi": "FI",
    "Italia": "IT",
    "Polska": "PL",
    "Nederland": "NL",
    "België": "BE",
    "Belgique": "BE",
    "The Netherlands": "NL",
    "Bundesrepublik Deutschland": "DE",
    "République française": "FR",
    "Espana": "ES",
    "Reino de España": "ES",
    "Estados Unidos Mexicanos": "MX",
    "Bharat": "IN",
    "Bhārat": "IN",
    "Pilipinas": "PH",
    "The Philippines": "PH",
    "Rzeczpospolita Polska": "PL",
    # Everyday English names CLDR words differently ("Congo - Kinshasa", "Hong Kong SAR China").
    "Democratic Republic of the Congo": "CD",
    "Republic of the Congo": "CG",
    "Congo": "CG",
    "Hong Kong": "HK",
    "Macao": "MO",
    "Macau": "MO",
    "Myanmar": "MM",
    "Palestine": "PS",
    "Cabo Verde": "CV",
    "Pitcairn": "PN",
    "Saint Martin": "MF",
    "Bonaire": "BQ",
    "US Virgin Islands": "VI",
    "French Southern Territories": "TF",
    "United States Minor Outlying Islands": "UM",
}

# The time zone most people of a country live in: how "open now" and "opens 13:00 (your
# time)" are worked out for a person who named only their country. Countries with several
# zones get their most populous one; a community's own time zone is preferred where it is set
# for the same country (support_selection.person_zone).
REGION_TIMEZONES: dict[str, str] = {
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "US": "America/New_York",
    "CA": "America/Toronto",
    "AU": "Australia/Sydney",
    "NZ": "Pacific/Auckland",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "ES": "Europe/Madrid",
    "IT": "Europe/Rome",
    "NL": "Europe/Amsterdam",
    "BR": "America/Sao_Paulo",
    "MX": "America/Mexico_City",
    "IN": "Asia/Kolkata",
    "PH": "Asia/Manila",
    "PL": "Europe/Warsaw",
}


def region_timezone(code: str) -> str | None:
    """The main IANA time zone of a country Haven lists services for, or None."""
    return REGION_TIMEZONES.get(code)


# How `global` (models.GLOBAL_REGION, the region of international resources) is named.
GLOBAL_NAME = N_("Worldwide")
# Over-long input is refused before any matching (the longest name is under 50 characters).
MAX_REGION_LENGTH = 64
_REGION_HINT = "Give a country name or its two-letter code, like Ireland, GB or NZ."


def _fold(text: str) -> str:
    """A comparison form: no accents, no case, no punctuation, "the" dropped, "&" and "St."
    spelt out as CLDR's English writes them ("St. Lucia", "Trinidad & Tobago")."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    plain = plain.replace("&", " and ")
    for ch in ".'’`\"":
        plain = plain.replace(ch, "")
    for ch in "-,()/_":
        plain = plain.replace(ch, " ")
    words = plain.split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join("saint" if word == "st" else word for word in words)


@functools.cache
def _lookup() -> dict[str, str]:
    """Folded name or alias -> code, over every shipped language (English first, so a name
    two languages give to different places means what it means in English). Built once, on
    first use. Two-letter codes are matched separately (see normalise_region)."""
    lookup: dict[str, str] = {}
    for locale in SHIPPED_LOCALES:
        for code, name in region_names(locale).items():
            lookup.setdefault(_fold(name), code)
    for code, alternatives in _ISO_ALTERNATIVES.items():
        for alternative in alternatives:
            lookup.setdefault(_fold(alternative), code)
    for alias, code in _EXTRA_ALIASES.items():
        lookup[_fold(alias)] = code
    return lookup


@functools.cache
def _labels(locale: str) -> tuple[tuple[str, str, float], ...]:
    """(folded label, code, penalty) searched by closest_regions and search_regions. Names in
    the reader's language carry none; other languages' names and aliases a small one, so
    "united" lists United Kingdom before "United Mexican States" (Mexico)."""
    own = {(_fold(name), code) for code, name in region_names(locale).items()}
    return tuple(
        [(label, code, 0.0) for label, code in sorted(own)]
        + [(label, code, 0.5) for label, code in _lookup().items() if (label, code) not in own]
    )


_REGIONAL_INDICATOR_A = 0x1F1E6


def _from_flag(text: str) -> str | None:
    """A flag emoji is two regional-indicator letters: 🇬🇧 -> GB."""
    if len(text) != 2:
        return None
    letters = []
    for ch in text:
        offset = ord(ch) - _REGIONAL_INDICATOR_A
        if not 0 <= offset < 26:
            return None
        letters.append(chr(ord("A") + offset))
    code = "".join(letters)
    return code if code in REGION_NAMES else None


def is_region_code(code: str) -> bool:
    """True for an exact ISO 3166-1 alpha-2 code as Haven stores it (upper case, e.g. `GB`)."""
    return code in REGION_NAMES


def region_name(code: str, locale: str | None = None) -> str:
    """The name for a code in the reader's language (`GB` -> `United Kingdom`, `Reino
    Unido`); `global` -> `Worldwide`.

    An unknown code is returned unchanged rather than raising: names are for display, and a
    reply should never fail because of one."""
    if code == GLOBAL_REGION:
        return translator(locale).gettext(GLOBAL_NAME)
    return region_names(shipped_locale(locale)).get(code.upper(), code)


def normalise_region(text: str) -> str:
    """The ISO code for what a person typed, in any shipped language: `UK`, `england`, `gb`,
    `Aotearoa`, `🇳🇿`, `Alemania`, `Deutschland`, `Allemagne`.

    Always a country code: callers that also accept `global` (resources that serve everyone)
    check for it first. Anything unknown raises UnknownChoice listing the closest codes first.
    """
    stripped = text.strip()
    if len(stripped) > MAX_REGION_LENGTH:
        raise UnknownChoice.too_long("Region", stripped, MAX_REGION_LENGTH, _REGION_HINT)
    flag = _from_flag(stripped)
    if flag:
        return flag
    folded = _fold(stripped)
    if len(folded) == 2 and folded.upper() in REGION_NAMES:
        return folded.upper()
    code = _lookup().get(folded)
    if code:
        return code
    choices = closest_regions(stripped)
    if choices:
        first = choices[0]
        hint = (
            f"Did you mean {first} ({REGION_NAMES[first]})? "
            "A two-letter country code like GB or NZ always works."
        )
    else:
        hint = _REGION_HINT
    labels = {choice: REGION_NAMES[choice] for choice in choices}
    raise UnknownChoice("Region", stripped, choices, hint=hint, labels=labels)


def _match_rank(query: str, label: str) -> int | None:
    """How well a folded query matches a folded label (lower is better), None if not at all."""
    if label == query:
        return 0
    if label.startswith(query):
        return 1
    if any(word.startswith(query) for word in label.split()):
        return 2
    return None


def closest_regions(text: str, limit: int = 8, locale: str | None = None) -> list[str]:
    """Codes that best match `text`, closest first: exact, prefix, word prefix, then spelling
    that is close ("Germny" -> DE). For suggestions after a typo and for autocomplete; over-long
    text (no region is named that way) gives [] at once."""
    if len(text) > MAX_REGION_LENGTH and len(text.strip()) > MAX_REGION_LENGTH:
        return []
    folded = _fold(text)
    if not folded or limit <= 0:
        return []
    ranked: dict[str, tuple[float, str]] = {}
    names = region_names(shipped_locale(locale))
    all_labels = _labels(shipped_locale(locale))

    def offer(code: str, score: float) -> None:
        key = (score, names[code])
        if code not in ranked or key < ranked[code]:
            ranked[code] = key

    if len(folded) == 2 and folded.upper() in REGION_NAMES:
        offer(folded.upper(), -1)
    for label, code, penalty in all_labels:
        rank = _match_rank(folded, label)
        if rank is not None:
            offer(code, rank + penalty)
    if len(folded) >= 3:
        # Spelling mistakes: difflib's ratio over names and aliases, best first.
        labels = [label for label, _, _ in all_labels]
        for label in difflib.get_close_matches(folded, labels, n=limit * 2, cutoff=0.6):
            ratio = difflib.SequenceMatcher(None, folded, label).ratio()
            # No alias penalty here: "Englnd" is a typo of the alias England, and must
            # rank GB above Greenland.
            for candidate, code, _ in all_labels:
                if candidate == label:
                    offer(code, 3 + (1 - ratio))
    ordered = sorted(ranked, key=lambda code: ranked[code])
    return ordered[:limit]


def search_regions(
    prefix: str,
    limit: int = 25,
    covered: Collection[str] | None = None,
    *,
    locale: str | None = None,
) -> list[tuple[str, str]]:
    """(code, name) pairs for autocomplete (Discord shows at most 25), named in the reader's
    language, the `covered` regions (those the library has resources for) first."""
    covered = covered or frozenset()
    names = region_names(shipped_locale(locale))
    if len(prefix) > MAX_REGION_LENGTH and len(prefix.strip()) > MAX_REGION_LENGTH:
        return []
    folded = _fold(prefix)
    scored: dict[str, float] = {}
    if not folded:
        scored = dict.fromkeys(REGION_NAMES, 0.0)
    else:
        if len(folded) == 2 and folded.upper() in REGION_NAMES:
            scored[folded.upper()] = -1.0
        for label, code, penalty in _labels(shipped_locale(locale)):
            rank = _match_rank(folded, label)
            if rank is not None and (code not in scored or rank + penalty < scored[code]):
                scored[code] = rank + penalty
    ordered = sorted(scored, key=lambda code: (code not in covered, scored[code], names[code]))
    return [(code, names[code]) for code in ordered[: max(limit, 0)]]
