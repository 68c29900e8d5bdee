"""IANA time zones from what people type: a city, a country or a UTC offset.

Zones per country come from Babel's CLDR data merged with tzdata's ``zone.tab`` (which
also gives a sensible order within a country); city names come from the zone identifiers
themselves and from CLDR's exemplar cities in every variant of our six languages.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from importlib import resources
from typing import Final

from babel.core import get_global
from babel.localedata import load as load_locale_data
from babel.localedata import locale_identifiers

from bot.i18n import SUPPORTED_LOCALES, babel_locale
from bot.services.countries import (
    country_codes,
    country_name,
    fold_name,
    resolve_country,
    suggest_countries,
)

#: At most this many zones are offered for a UTC offset, the generic ``Etc/GMT`` zone included.
MAX_OFFSET_CHOICES: Final = 8

#: The zone of the capital, for countries whose first row in ``zone.tab`` is another zone:
#: that file orders some countries west to east (Russia starts with Kaliningrad, Brazil
#: with Noronha), and Babel does not ship CLDR's primary-zone data. Kosovo is missing from
#: tzdata altogether and keeps Belgrade time.
_CAPITAL_ZONES: Final[Mapping[str, str]] = {
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "FM": "Pacific/Pohnpei",
    "PS": "Asia/Hebron",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "UZ": "Asia/Tashkent",
    "XK": "Europe/Belgrade",
}

#: Cities that tz and CLDR do not name although people will type them: China's zone is
#: named after Shanghai, but most programmes are held in Beijing.
_OTHER_CITIES: Final[Mapping[str, tuple[str, ...]]] = {
    "Asia/Shanghai": ("Beijing", "Peking", "北京", "Пекин", "Pékin", "Pekín", "بكين"),
}

#: Zone identifiers under these areas name a city; the rest (``US/Eastern``, ``Etc/GMT+5``,
#: ``Cuba``) are legacy or technical names.
_CITY_AREAS: Final = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)

# "UTC+5", "GMT -3", "+05:30", "+0545", "utc+8", "UTC 5" (a prefix without a sign means east).
_OFFSET = re.compile(
    r"""^(?:(?P<prefix>utc|gmt|z)\s*)?
        (?:(?P<sign>[+-])?\s*(?P<hours>\d{1,2})(?:\s*(?P<sep>[:.h])\s*(?P<minutes>\d{1,2}))?
           |(?P<sign4>[+-])?(?P<compact>\d{3,4}))?$""",
    re.VERBOSE | re.IGNORECASE,
)
_DASHES = str.maketrans({"−": "-", "–": "-", "—": "-", "‐": "-"})


def _tzdata_table(name: str) -> list[list[str]]:
    """Rows of one of tzdata's tab-separated tables (``zone.tab``, ``zone1970.tab``)."""
    try:
        text = resources.files("tzdata").joinpath("zoneinfo", name).read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return []
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@cache
def _available_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@cache
def _loads(zone: str) -> bool:
    """Whether this machine can load ``zone`` (a Babel zone may be newer than tzdata)."""
    if zone not in _available_zones():
        return False
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _canonical(zone: str) -> str:
    """The current name of a renamed zone ("Asia/Calcutta" -> "Asia/Kolkata")."""
    aliases: Mapping[str, str] = get_global("zone_aliases")
    return aliases.get(zone, zone)


@cache
def _zone_tab_order() -> dict[str, list[str]]:
    """Country code -> its zones in ``zone.tab`` order."""
    order: dict[str, list[str]] = {}
    for row in _tzdata_table("zone.tab"):
        if len(row) >= 3:
            order.setdefault(row[0], []).append(row[2])
    return order


@cache
def _zones_by_country() -> dict[str, tuple[str, ...]]:
    babel_zones: Mapping[str, list[str]] = get_global("territory_zones")
    tab = _zone_tab_order()
    result: dict[str, tuple[str, ...]] = {}
    for code in country_codes():
        candidates = [
            *([_CAPITAL_ZONES[code]] if code in _CAPITAL_ZONES else []),
            *tab.get(code, []),
            *sorted(babel_zones.get(code, [])),
        ]
        zones: list[str] = []
        for zone in candidates:
            zone = _canonical(zone)
            if zone not in zones and _loads(zone):
                zones.append(zone)
        if zones:
            result[code] = tuple(zones)
    return result


def zones_for_country(code: str) -> list[str]:
    """The IANA zones of a country (alpha-2 code), the capital's or main zone first.

    Only zones this machine can load are returned; an empty list for an unknown code.
    """
    return list(_zones_by_country().get(code.strip().upper(), ()))


def _instants_over_a_year(start: date) -> Iterable[datetime]:
    """Twice a day for a year from ``start``: fine enough to see every DST change."""
    first = datetime.combine(start, time(0), tzinfo=UTC)
    return (first + timedelta(hours=12 * step) for step in range(2 * 366))


@lru_cache(maxsize=512)
def _single_zone(code: str, start: date) -> str | None:
    zones = _zones_by_country().get(code)
    if not zones:
        return None
    if len(zones) == 1:
        return zones[0]
    loaded = [zoneinfo.ZoneInfo(zone) for zone in zones]
    for instant in _instants_over_a_year(start):
        offsets = {instant.astimezone(zone).utcoffset() for zone in loaded}
        if len(offsets) > 1:
            return None
    return zones[0]


def default_zone_for_country(code: str, at: datetime | None = None) -> str | None:
    """The zone to use for a country without asking, or ``None`` when the person must choose.

    A country gets a default when all its zones keep the same UTC offset for the year from
    ``at`` (default: now), as in Uzbekistan (Tashkent and Samarkand) or, since 2024,
    Kazakhstan. Countries whose clocks differ (Russia, Brazil, the United States, Indonesia,
    Mexico, Australia, and China because tzdata keeps Xinjiang's own time) give ``None``.
    """
    moment = at if at is not None else datetime.now(UTC)
    return _single_zone(code.strip().upper(), moment.astimezone(UTC).date())


def _parse_offset(text: str) -> timedelta | None:
    """A UTC offset from "+5", "UTC+5:30", "GMT-3", "+0545", "utc+8"; ``None`` otherwise."""
    cleaned = unicodedata.normalize("NFKC", text).translate(_DASHES).strip()
    match = _OFFSET.match(cleaned)
    if match is None:
        return None
    prefix, sign = match["prefix"], match["sign"] or match["sign4"]
    if match["compact"] is not None:
        hours, minutes = int(match["compact"][:-2]), int(match["compact"][-2:])
    elif match["hours"] is not None:
        hours, minutes = int(match["hours"]), 0
        if match["minutes"] is not None:
            if match["sep"] == ".":
                # A decimal hour: "+5.5" is 5:30, "+5.75" is 5:45.
                minutes = round(float("0." + match["minutes"]) * 60)
            else:
                minutes = int(match["minutes"])
    elif prefix is not None:
        hours, minutes = 0, 0
    else:
        return None
    if sign is None and prefix is None:
        # A bare number ("5", "1200") is more likely a typo than an offset.
        return None
    if minutes >= 60:
        return None
    offset = timedelta(hours=hours, minutes=minutes)
    if sign == "-":
        offset = -offset
    if not timedelta(hours=-12) <= offset <= timedelta(hours=14):
        return None
    return offset


@cache
def _offset_candidates() -> tuple[str, ...]:
    """Zones worth offering for an offset, most widely used first.

    Each row of ``zone1970.tab`` is one set of clocks; zones that are the main zone of the
    first country on their row come first, then rows shared by more countries.
    """
    principal = {zones[0] for zones in _zones_by_country().values()}
    ranked: list[tuple[bool, int, int, str]] = []
    for position, row in enumerate(_tzdata_table("zone1970.tab")):
        if len(row) < 3:
            continue
        zone = _canonical(row[2])
        # Nobody attending a programme lives on a research station.
        if _loads(zone) and not zone.startswith("Antarctica/"):
            ranked.append((zone not in principal, -len(row[0].split(",")), position, zone))
    seen: set[str] = set()
    ordered = []
    for *_rank, zone in sorted(ranked):
        if zone not in seen:
            seen.add(zone)
            ordered.append(zone)
    return tuple(ordered)


def _zones_at_offset(offset: timedelta, now: datetime) -> list[str]:
    matching = [
        zone
        for zone in _offset_candidates()
        if now.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset() == offset
    ]
    seconds = int(offset.total_seconds())
    if seconds % 3600:
        return matching[:MAX_OFFSET_CHOICES]
    hours = seconds // 3600
    # POSIX-style names count the other way round: UTC+5 is "Etc/GMT-5".
    generic = "Etc/UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"
    return [*matching[: MAX_OFFSET_CHOICES - 1], generic]


def _exemplar_city_names() -> Iterable[tuple[str, str]]:
    """(zone, city name) pairs from CLDR's exemplar cities in our six languages."""
    for locale_id in locale_identifiers():
        if locale_id.split("_", 1)[0] not in SUPPORTED_LOCALES:
            continue
        time_zones = load_locale_data(locale_id).get("time_zones", {})
        for zone, names in time_zones.items():
            city = names.get("city") if isinstance(names, Mapping) else None
            if isinstance(city, str):
                yield zone, city


@cache
def _city_index() -> dict[str, tuple[str, ...]]:
    """Folded city name -> zones, from zone identifiers and CLDR exemplar cities."""
    found: defaultdict[str, set[str]] = defaultdict(set)
    for zone in _available_zones():
        area, _sep, city = zone.partition("/")
        if area in _CITY_AREAS and city:
            found[fold_name(city.rsplit("/", 1)[-1].replace("_", " "))].add(_canonical(zone))
    for zone, city in _exemplar_city_names():
        found[fold_name(city)].add(_canonical(zone))
    for zone, names in _OTHER_CITIES.items():
        for city in names:
            found[fold_name(city)].add(zone)
    order = {zone: i for i, zone in enumerate(_offset_candidates())}
    return {
        key: tuple(sorted((z for z in zones if _loads(z)), key=lambda z: (order.get(z, 10**6), z)))
        for key, zones in found.items()
        if key
    }


def _dedupe(zones: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(zones))


def resolve_timezone_text(text: str, locale: str, now: datetime) -> list[str]:
    """Candidate IANA zones for what a person typed: a city, a country or a UTC offset.

    Cities ("Tashkent", "sao paulo", "Ташкент", "塔什干") and countries in any of our
    languages give their zones; an offset ("+5", "UTC+5:30", "GMT-3") gives the main zones
    whose offset at ``now`` equals it, ending with the generic ``Etc/GMT`` zone for whole
    hours. A slight misspelling of a city or country is forgiven. ``[]`` when nothing fits.
    ``locale`` is the language of the person, used to prefer names in it.
    """
    if now.tzinfo is None:
        raise ValueError("naive datetime: every stored time is timezone-aware UTC")
    stripped = text.strip()
    if not stripped:
        return []
    offset = _parse_offset(stripped)
    if offset is not None:
        return _zones_at_offset(offset, now)
    if "/" in stripped:
        zone = _canonical(stripped.replace(" ", "_"))
        if _loads(zone):
            return [zone]
    key = fold_name(stripped)
    if not key:
        return []
    cities = _city_index()
    # Country codes are not accepted here: people type zone abbreviations, and "EST" would
    # otherwise be read as Estonia.
    country = resolve_country(stripped, codes=False)
    zones = [*cities.get(key, ()), *(zones_for_country(country) if country else [])]
    if zones:
        return _dedupe(zones)
    return _fuzzy(key, locale)


def _fuzzy(key: str, locale: str) -> list[str]:
    """Zones for a slightly misspelt city or country ("Tashkant", "Ташкет")."""
    if len(key) < 4:
        return []
    cities = _city_index()
    close = difflib.get_close_matches(key, cities.keys(), n=3, cutoff=0.85)
    zones = [zone for match in close for zone in cities[match]]
    for code, _name in _suggested_countries(key, locale):
        zones.extend(zones_for_country(code))
    return _dedupe(zones)


def _suggested_countries(key: str, locale: str) -> list[tuple[str, str]]:
    """The country a misspelt name most likely means, if it is close enough to trust."""
    return [
        (code, name)
        for code, name in suggest_countries(key, locale, limit=1)
        if difflib.SequenceMatcher(None, key, fold_name(name)).ratio() >= 0.85
    ]


def _exemplar_city(zone: str, locale: str) -> str:
    """The city of a zone as CLDR names it in ``locale`` (renamed zones included)."""
    babel = babel_locale(locale)
    aliases: Mapping[str, str] = get_global("zone_aliases")
    for name in (zone, *(old for old, new in aliases.items() if new == zone)):
        names = babel.time_zones.get(name)
        city = names.get("city") if names is not None else None
        if isinstance(city, str):
            return city
    # CLDR leaves out the names that equal the identifier ("Buenos_Aires" in English).
    return zone.rsplit("/", 1)[-1].replace("_", " ")


@cache
def _zone_countries() -> dict[str, str]:
    """Zone -> the country it belongs to (the first one, for zones shared by several)."""
    result: dict[str, str] = {}
    for code, zones in sorted(_zones_by_country().items()):
        for zone in zones:
            result.setdefault(zone, code)
    territories: Mapping[str, str] = get_global("zone_territories")
    for zone, code in territories.items():
        if code in country_codes():
            result.setdefault(_canonical(zone), code)
    return result


def _format_offset(offset: timedelta | None) -> str:
    seconds = int(offset.total_seconds()) if offset is not None else 0
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes = rest // 60
    return f"UTC{sign}{hours}:{minutes:02d}" if minutes else f"UTC{sign}{hours}"


def _words(text: str) -> str:
    """Accent-free lower-case words separated by single spaces, padded with spaces."""
    plain = "".join(
        ch for ch in unicodedata.normalize("NFKD", text).casefold() if not unicodedata.combining(ch)
    )
    return " " + " ".join(re.findall(r"\w+", plain)) + " "


def _names_city(country: str, city: str) -> bool:
    """Whether the country's name already contains the city ("Hong Kong SAR China")."""
    if any(unicodedata.east_asian_width(ch) == "W" for ch in city):
        # Chinese writes no spaces between words, so any containment counts.
        return fold_name(city) in fold_name(country)
    return _words(city) in _words(country)


def zone_label(zone: str, locale: str) -> str:
    """A name people recognise for a zone, in ``locale``: "Tashkent (Uzbekistan)".

    Generic zones read as their offset ("UTC+5"); when the city is the country
    ("Singapore") the name is not repeated.
    """
    if zone in ("UTC", "Etc/UTC", "Etc/GMT", "GMT"):
        return "UTC"
    if zone.startswith("Etc/GMT"):
        # "Etc/GMT-5" is UTC+5: the sign in these names is reversed.
        try:
            hours = -int(zone.removeprefix("Etc/GMT"))
        except ValueError:
            return zone
        return _format_offset(timedelta(hours=hours))
    city = _exemplar_city(zone, locale)
    code = _zone_countries().get(zone)
    if code is None:
        return city
    country = country_name(code, locale)
    if _names_city(country, city):
        # "Singapore (Singapore)", "Hong Kong (Hong Kong SAR China)": the city says it all.
        return city
    pattern = str(babel_locale(locale).zone_formats["fallback"])
    # CLDR's pattern is "{1} ({0})" with the place in brackets; the city goes first here.
    return pattern % {"1": city, "0": country}


def utc_offset_label(zone: str, at: datetime) -> str:
    """The offset of ``zone`` at the instant ``at``: "UTC+5:45", "UTC-3", "UTC+0"."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: every stored time is timezone-aware UTC")
    return _format_offset(at.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset())
