"""Time zones in timetable files: zone names in headers, offsets, and local wall-clock times."""

from __future__ import annotations

import re
import unicodedata
import warnings
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo, available_timezones

# --------------------------------------------------------------------------------------------
# Time zones and local times


def localize(naive: datetime, zone: tzinfo) -> datetime | str:
    """Attach ``zone`` to a wall-clock time; return "gap" or "fold" if it is not one instant."""
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        round_trip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        return "gap" if round_trip != naive else "fold"
    return first.astimezone(UTC)


def zone_label(zone: tzinfo) -> str:
    if isinstance(zone, ZoneInfo):
        return zone.key
    return str(zone)


@cache
def _iana_names() -> dict[str, str]:
    """Lower-cased IANA names and their city parts ("new york") -> canonical name."""
    names: dict[str, str] = {}
    for name in sorted(available_timezones()):
        names.setdefault(name.casefold(), name)
    for name in sorted(available_timezones()):
        # Only real places ("Europe/Moscow"), not legacy aliases ("Etc/GMT+3", "US/Eastern").
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "Brazil/")):
            city = name.rsplit("/", 1)[1].replace("_", " ").casefold()
            names.setdefault(city, name)
    return names


@cache
def _windows_names() -> dict[str, str]:
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    return {name.casefold(): olson for name, olson in WINDOWS_TO_OLSON.items()}


# How organisers label a zone in a column header; the city-based lookup covers the rest.
_ZONE_PHRASES: Final[dict[str, str]] = {
    "beijing": "Asia/Shanghai",
    "peking": "Asia/Shanghai",
    "china": "Asia/Shanghai",
    "bjt": "Asia/Shanghai",
    "北京": "Asia/Shanghai",
    "北京时间": "Asia/Shanghai",
    "中国": "Asia/Shanghai",
    "пекин": "Asia/Shanghai",
    "пекинское": "Asia/Shanghai",
    "пекинскому": "Asia/Shanghai",
    "pékin": "Asia/Shanghai",
    "pekín": "Asia/Shanghai",
    "msk": "Europe/Moscow",
    "мск": "Europe/Moscow",
    "москва": "Europe/Moscow",
    "московское": "Europe/Moscow",
    "московскому": "Europe/Moscow",
    "莫斯科时间": "Europe/Moscow",
    "moscou": "Europe/Moscow",
    "moscú": "Europe/Moscow",
    # tzdata itself now treats CET/EET/WET as aliases of these cities.
    "cet": "Europe/Brussels",
    "cest": "Europe/Brussels",
    "central european": "Europe/Brussels",
    "eet": "Europe/Athens",
    "eest": "Europe/Athens",
    "eastern european": "Europe/Athens",
    "wet": "Europe/Lisbon",
    "uk": "Europe/London",
    "india": "Asia/Kolkata",
    "indian standard": "Asia/Kolkata",
    "jst": "Asia/Tokyo",
    "japan": "Asia/Tokyo",
    "kst": "Asia/Seoul",
    "korea": "Asia/Seoul",
    "eastern": "America/New_York",
    "et": "America/New_York",
    "est": "America/New_York",
    "edt": "America/New_York",
    "central": "America/Chicago",
    "pacific": "America/Los_Angeles",
    "pt": "America/Los_Angeles",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "gulf": "Asia/Dubai",
    "gst": "Asia/Dubai",
    "cuba": "America/Havana",
    "pakistan": "Asia/Karachi",
    "pkt": "Asia/Karachi",
    "iran": "Asia/Tehran",
    "east africa": "Africa/Nairobi",
    "eat": "Africa/Nairobi",
    "west africa": "Africa/Lagos",
    "wat": "Africa/Lagos",
    "south africa": "Africa/Johannesburg",
    "sast": "Africa/Johannesburg",
}

# Words that only say "this is a time zone"; removed to get at the place ("Moscow time").
_ZONE_NOISE = re.compile(
    r"\b(?:local|standard|summer|daylight|time|timezone|zone|hours?|время|времени|по|heure|"
    r"heures|de|hora|horario|zona|fuseau)\b",
    re.IGNORECASE,
)
# A bracket that mentions one of these must name a zone we understand, or the file is refused:
# reading "Start (Bejing time)" in the wrong zone would silently move every session.
ZONE_HINT = re.compile(
    r"(?i:time|zone|utc|gmt|врем|мск|时间|時間|heure|hora|fuseau)|\b[A-Z]{1,4}T\b|"
    r"^[A-Za-z]+/[A-Za-z_]+"
)
_OFFSET = re.compile(r"(?:utc|gmt)\s*(?:([+\-−])\s*(\d{1,2})(?:[:.]?(\d{2}))?)?", re.IGNORECASE)


def zone_from_phrase(phrase: str, default_zone: tzinfo) -> tzinfo | None:
    """The zone a header's bracket names ("Beijing time", "UTC+3", "Europe/Belgrade")."""
    for part in re.split(r"[,;/]\s+|\s+/\s*", phrase.strip()):
        zone = _zone_from_single_phrase(part.strip(), default_zone)
        if zone is not None:
            return zone
    return _zone_from_single_phrase(phrase.strip(), default_zone)


def _zone_from_single_phrase(phrase: str, default_zone: tzinfo) -> tzinfo | None:
    text = " ".join(unicodedata.normalize("NFKC", phrase).split())
    folded = text.casefold()
    if not folded:
        return None
    offset = _OFFSET.fullmatch(folded)
    if offset:
        sign, hours, minutes = offset.groups()
        if hours is None:
            return UTC
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if delta >= timedelta(hours=15):
            return None
        return timezone(-delta if sign in {"-", "−"} else delta)
    if folded in {"local", "local time", "programme time", "program time", "местное время"}:
        return default_zone
    for candidate in (folded, " ".join(_ZONE_NOISE.sub(" ", folded).split())):
        if not candidate:
            continue
        name = (
            _ZONE_PHRASES.get(candidate)
            or _windows_names().get(candidate)
            or _iana_names().get(candidate)
            or _iana_names().get(candidate.replace(" ", "_"))
        )
        if name:
            return ZoneInfo(name)
    # Let icalendar have the last word: it knows Windows names and odd vendor spellings.
    from icalendar.timezone import tzp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = tzp.timezone(text)
    return found


def resolve_zone_name(name: str) -> tzinfo | None:
    """A zone named inside a calendar file (IANA or Windows name)."""
    from icalendar.timezone import tzp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = tzp.timezone(name.strip())
    if found is not None:
        return found
    olson = _windows_names().get(name.strip().casefold())
    return ZoneInfo(olson) if olson else None
