"""Countries and territories people can pick for `/support`: ISO 3166-1 codes, names, aliases.

Helplines are national, so a region is how Haven chooses the right numbers. People type what they
call their country ("UK", "England", "Aotearoa", "the Netherlands"); Haven stores the ISO 3166-1
alpha-2 code ("GB", "NZ", "NL"). The table below was generated once from the Debian `iso-codes`
data (ISO 3166-1, 249 entries) with everyday English names, plus Kosovo's widely used
user-assigned code XK, so that nobody there is left without a choice.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Collection

from bot.core.errors import UnknownChoice
from bot.core.models import GLOBAL_REGION

REGION_NAMES: dict[str, str] = {
    "AD": "Andorra",
    "AE": "United Arab Emirates",
    "AF": "Afghanistan",
    "AG": "Antigua and Barbuda",
    "AI": "Anguilla",
    "AL": "Albania",
    "AM": "Armenia",
    "AO": "Angola",
    "AQ": "Antarctica",
    "AR": "Argentina",
    "AS": "American Samoa",
    "AT": "Austria",
    "AU": "Australia",
    "AW": "Aruba",
    "AX": "Åland Islands",
    "AZ": "Azerbaijan",
    "BA": "Bosnia and Herzegovina",
    "BB": "Barbados",
    "BD": "Bangladesh",
    "BE": "Belgium",
    "BF": "Burkina Faso",
    "BG": "Bulgaria",
    "BH": "Bahrain",
    "BI": "Burundi",
    "BJ": "Benin",
    "BL": "Saint Barthélemy",
    "BM": "Bermuda",
    "BN": "Brunei",
    "BO": "Bolivia",
    "BQ": "Bonaire, Sint Eustatius and Saba",
    "BR": "Brazil",
    "BS": "Bahamas",
    "BT": "Bhutan",
    "BV": "Bouvet Island",
    "BW": "Botswana",
    "BY": "Belarus",
    "BZ": "Belize",
    "CA": "Canada",
    "CC": "Cocos (Keeling) Islands",
    "CD": "Democratic Republic of the Congo",
    "CF": "Central African Republic",
    "CG": "Congo",
    "CH": "Switzerland",
    "CI": "Côte d'Ivoire",
    "CK": "Cook Islands",
    "CL": "Chile",
    "CM": "Cameroon",
    "CN": "China",
    "CO": "Colombia",
    "CR": "Costa Rica",
    "CU": "Cuba",
    "CV": "Cabo Verde",
    "CW": "Curaçao",
    "CX": "Christmas Island",
    "CY": "Cyprus",
    "CZ": "Czechia",
    "DE": "Germany",
    "DJ": "Djibouti",
    "DK": "Denmark",
    "DM": "Dominica",
    "DO": "Dominican Republic",
    "DZ": "Algeria",
    "EC": "Ecuador",
    "EE": "Estonia",
    "EG": "Egypt",
    "EH": "Western Sahara",
    "ER": "Eritrea",
    "ES": "Spain",
    "ET": "Ethiopia",
    "FI": "Finland",
    "FJ": "Fiji",
    "FK": "Falkland Islands",
    "FM": "Micronesia",
    "FO": "Faroe Islands",
    "FR": "France",
    "GA": "Gabon",
    "GB": "United Kingdom",
    "GD": "Grenada",
    "GE": "Georgia",
    "GF": "French Guiana",
    "GG": "Guernsey",
    "GH": "Ghana",
    "GI": "Gibraltar",
    "GL": "Greenland",
    "GM": "Gambia",
    "GN": "Guinea",
    "GP": "Guadeloupe",
    "GQ": "Equatorial Guinea",
    "GR": "Greece",
    "GS": "South Georgia and the South Sandwich Islands",
    "GT": "Guatemala",
    "GU": "Guam",
    "GW": "Guinea-Bissau",
    "GY": "Guyana",
    "HK": "Hong Kong",
    "HM": "Heard Island and McDonald Islands",
    "HN": "Honduras",
    "HR": "Croatia",
    "HT": "Haiti",
    "HU": "Hungary",
    "ID": "Indonesia",
    "IE": "Ireland",
    "IL": "Israel",
    "IM": "Isle of Man",
    "IN": "India",
    "IO": "British Indian Ocean Territory",
    "IQ": "Iraq",
    "IR": "Iran",
    "IS": "Iceland",
    "IT": "Italy",
    "JE": "Jersey",
    "JM": "Jamaica",
    "JO": "Jordan",
    "JP": "Japan",
    "KE": "Kenya",
    "KG": "Kyrgyzstan",
    "KH": "Cambodia",
    "KI": "Kiribati",
    "KM": "Comoros",
    "KN": "Saint Kitts and Nevis",
    "KP": "North Korea",
    "KR": "South Korea",
    "KW": "Kuwait",
    "KY": "Cayman Islands",
    "KZ": "Kazakhstan",
    "LA": "Laos",
    "LB": "Lebanon",
    "LC": "Saint Lucia",
    "LI": "Liechtenstein",
    "LK": "Sri Lanka",
    "LR": "Liberia",
    "LS": "Lesotho",
    "LT": "Lithuania",
    "LU": "Luxembourg",
    "LV": "Latvia",
    "LY": "Libya",
    "MA": "Morocco",
    "MC": "Monaco",
    "MD": "Moldova",
    "ME": "Montenegro",
    "MF": "Saint Martin (French part)",
    "MG": "Madagascar",
    "MH": "Marshall Islands",
    "MK": "North Macedonia",
    "ML": "Mali",
    "MM": "Myanmar",
    "MN": "Mongolia",
    "MO": "Macao",
    "MP": "Northern Mariana Islands",
    "MQ": "Martinique",
    "MR": "Mauritania",
    "MS": "Montserrat",
    "MT": "Malta",
    "MU": "Mauritius",
    "MV": "Maldives",
    "MW": "Malawi",
    "MX": "Mexico",
    "MY": "Malaysia",
    "MZ": "Mozambique",
    "NA": "Namibia",
    "NC": "New Caledonia",
    "NE": "Niger",
    "NF": "Norfolk Island",
    "NG": "Nigeria",
    "NI": "Nicaragua",
    "NL": "Netherlands",
    "NO": "Norway",
    "NP": "Nepal",
    "NR": "Nauru",
    "NU": "Niue",
    "NZ": "New Zealand",
    "OM": "Oman",
    "PA": "Panama",
    "PE": "Peru",
    "PF": "French Polynesia",
    "PG": "Papua New Guinea",
    "PH": "Philippines",
    "PK": "Pakistan",
    "PL": "Poland",
    "PM": "Saint Pierre and Miquelon",
    "PN": "Pitcairn",
    "PR": "Puerto Rico",
    "PS": "Palestine",
    "PT": "Portugal",
    "PW": "Palau",
    "PY": "Paraguay",
    "QA": "Qatar",
    "RE": "Réunion",
    "RO": "Romania",
    "RS": "Serbia",
    "RU": "Russia",
    "RW": "Rwanda",
    "SA": "Saudi Arabia",
    "SB": "Solomon Islands",
    "SC": "Seychelles",
    "SD": "Sudan",
    "SE": "Sweden",
    "SG": "Singapore",
    "SH": "Saint Helena, Ascension and Tristan da Cunha",
    "SI": "Slovenia",
    "SJ": "Svalbard and Jan Mayen",
    "SK": "Slovakia",
    "SL": "Sierra Leone",
    "SM": "San Marino",
    "SN": "Senegal",
    "SO": "Somalia",
    "SR": "Suriname",
    "SS": "South Sudan",
    "ST": "Sao Tome and Principe",
    "SV": "El Salvador",
    "SX": "Sint Maarten (Dutch part)",
    "SY": "Syria",
    "SZ": "Eswatini",
    "TC": "Turks and Caicos Islands",
    "TD": "Chad",
    "TF": "French Southern Territories",
    "TG": "Togo",
    "TH": "Thailand",
    "TJ": "Tajikistan",
    "TK": "Tokelau",
    "TL": "Timor-Leste",
    "TM": "Turkmenistan",
    "TN": "Tunisia",
    "TO": "Tonga",
    "TR": "Türkiye",
    "TT": "Trinidad and Tobago",
    "TV": "Tuvalu",
    "TW": "Taiwan",
    "TZ": "Tanzania",
    "UA": "Ukraine",
    "UG": "Uganda",
    "UM": "United States Minor Outlying Islands",
    "US": "United States",
    "UY": "Uruguay",
    "UZ": "Uzbekistan",
    "VA": "Vatican City",
    "VC": "Saint Vincent and the Grenadines",
    "VE": "Venezuela",
    "VG": "British Virgin Islands",
    "VI": "US Virgin Islands",
    "VN": "Vietnam",
    "VU": "Vanuatu",
    "WF": "Wallis and Futuna",
    "WS": "Samoa",
    "XK": "Kosovo",
    "YE": "Yemen",
    "YT": "Mayotte",
    "ZA": "South Africa",
    "ZM": "Zambia",
    "ZW": "Zimbabwe",
}

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
GLOBAL_NAME = "Worldwide"
# The longest name or alias is 44 characters ("South Georgia and the South Sandwich Islands").
# Anything longer is refused before the fuzzy match, which is slow on long text.
MAX_REGION_LENGTH = 64
_REGION_HINT = "Give a country name or its two-letter code, like Ireland, GB or NZ."


def _fold(text: str) -> str:
    """A comparison form: no accents, no case, no punctuation, single spaces, no leading "the"."""
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
    return " ".join(words)


def _build_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for code, name in REGION_NAMES.items():
        lookup[_fold(name)] = code
        for alternative in _ISO_ALTERNATIVES.get(code, ()):
            lookup.setdefault(_fold(alternative), code)
    for alias, code in _EXTRA_ALIASES.items():
        lookup[_fold(alias)] = code
    return lookup


# Folded name or alias -> code. Two-letter codes are matched separately (see normalise_region).
_LOOKUP: dict[str, str] = _build_lookup()
# (folded label, code, penalty) searched by closest_regions and search_regions. Aliases carry a
# small penalty so "united" lists United Kingdom before "United Mexican States" (Mexico).
_LABELS: tuple[tuple[str, str, float], ...] = tuple(
    [(_fold(name), code, 0.0) for code, name in REGION_NAMES.items()]
    + [(label, code, 0.5) for label, code in _LOOKUP.items() if label != _fold(REGION_NAMES[code])]
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


def region_name(code: str) -> str:
    """The English name for a code (`GB` -> `United Kingdom`); `global` -> `Worldwide`.

    An unknown code is returned unchanged rather than raising: names are for display, and a
    reply should never fail because of one."""
    if code == GLOBAL_REGION:
        return GLOBAL_NAME
    return REGION_NAMES.get(code.upper(), code)


def normalise_region(text: str) -> str:
    """The ISO code for what a person typed: `UK`, `england`, `gb`, `Aotearoa`, `🇳🇿`.

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
    code = _LOOKUP.get(folded)
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


def closest_regions(text: str, limit: int = 8) -> list[str]:
    """Codes that best match `text`, closest first: exact, prefix, word prefix, then spelling
    that is close ("Germny" -> DE). For suggestions after a typo and for autocomplete; over-long
    text (no region is named that way) gives [] at once."""
    if len(text) > MAX_REGION_LENGTH and len(text.strip()) > MAX_REGION_LENGTH:
        return []
    folded = _fold(text)
    if not folded or limit <= 0:
        return []
    ranked: dict[str, tuple[float, str]] = {}

    def offer(code: str, score: float) -> None:
        key = (score, REGION_NAMES[code])
        if code not in ranked or key < ranked[code]:
            ranked[code] = key

    if len(folded) == 2 and folded.upper() in REGION_NAMES:
        offer(folded.upper(), -1)
    for label, code, penalty in _LABELS:
        rank = _match_rank(folded, label)
        if rank is not None:
            offer(code, rank + penalty)
    if len(folded) >= 3:
        # Spelling mistakes: difflib's ratio over names and aliases, best first.
        labels = [label for label, _, _ in _LABELS]
        for label in difflib.get_close_matches(folded, labels, n=limit * 2, cutoff=0.6):
            ratio = difflib.SequenceMatcher(None, folded, label).ratio()
            # No alias penalty here: "Englnd" is a typo of the alias England, and must
            # rank GB above Greenland.
            for candidate, code, _ in _LABELS:
                if candidate == label:
                    offer(code, 3 + (1 - ratio))
    ordered = sorted(ranked, key=lambda code: ranked[code])
    return ordered[:limit]


def search_regions(
    prefix: str, limit: int = 25, covered: Collection[str] | None = None
) -> list[tuple[str, str]]:
    """(code, name) pairs for autocomplete (Discord shows at most 25), the `covered` regions
    (those the library has resources for) first."""
    covered = covered or frozenset()
    if len(prefix) > MAX_REGION_LENGTH and len(prefix.strip()) > MAX_REGION_LENGTH:
        return []
    folded = _fold(prefix)
    scored: dict[str, float] = {}
    if not folded:
        scored = dict.fromkeys(REGION_NAMES, 0.0)
    else:
        if len(folded) == 2 and folded.upper() in REGION_NAMES:
            scored[folded.upper()] = -1.0
        for label, code, penalty in _LABELS:
            rank = _match_rank(folded, label)
            if rank is not None and (code not in scored or rank + penalty < scored[code]):
                scored[code] = rank + penalty
    ordered = sorted(
        scored, key=lambda code: (code not in covered, scored[code], REGION_NAMES[code])
    )
    return [(code, REGION_NAMES[code]) for code in ordered[: max(limit, 0)]]
