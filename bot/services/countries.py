"""Countries as people type them, in any of the interface languages, mapped to ISO codes.

Names come from the CLDR data that Babel ships (every regional variant of our six
languages, so "Vietnam", "Viêt Nam", "Вьетнам" and "越南" all count) plus the English short
names of tzdata's ``iso3166.tab`` ("Turkey", "Czech Republic", "Cape Verde"), which cover
several common names that CLDR keeps only as alternatives Babel does not load.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Final

from babel.core import get_global
from babel.localedata import load as load_locale_data
from babel.localedata import locale_identifiers

from bot.i18n import SUPPORTED_LOCALES, babel_locale

#: CLDR territory codes that are not a place a person comes from: groupings (EU, UN,
#: eurozone, Outlying Oceania), pseudo-locales and "unknown", plus the ISO 3166 codes that
#: are only "exceptionally reserved" (Ascension, Clipperton, Sark, Diego Garcia, Ceuta and
#: Melilla, Canary Islands, Tristan da Cunha): they are parts of other countries and have no
#: alpha-3 code, so storing them would surprise anything downstream that expects ISO 3166-1.
_NOT_COUNTRIES: Final = frozenset(
    {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"}
)

# Arabic spelling variants that people use interchangeably when typing (alef maqsura / ya,
# ta marbuta / ha) and the tatweel used only to stretch words; hamza forms of alef are
# handled by the Unicode decomposition below.
_ARABIC_FOLD: Final = str.maketrans({"ى": "ي", "ة": "ه", "ـ": None})

_BRACKETED = re.compile(r"\s*[(（\[][^)）\]]*[)）\]]\s*")
_SAINT = re.compile(r"\bSt\.?\s", re.IGNORECASE)
_LEADING_THE = re.compile(r"^\s*the\s+", re.IGNORECASE)

#: How similar a typed name must be to a real one to be offered as a suggestion.
_CUTOFF: Final = 0.6
#: Suggestions scoring this much below the best one are left out.
_SPREAD: Final = 0.15


def fold_name(text: str) -> str:
    """Reduce a name to a key that ignores case, accents, punctuation and spacing.

    "Côte d'Ivoire", "COTE DIVOIRE" and "Côte d’Ivoire" all give ``"cotedivoire"``; full-width
    CJK forms fold to their ordinary forms. Used for countries, cities, headers and languages.
    """
    text = unicodedata.normalize("NFKD", text).casefold()
    text = unicodedata.normalize("NFKD", text).translate(_ARABIC_FOLD)
    return "".join(ch for ch in text if ch.isalnum() and not unicodedata.combining(ch))


def _our_language_locales() -> list[str]:
    """Every Babel locale of our six languages (``en``, ``en_IN``, ``zh_Hant_HK``, ...)."""
    return [lid for lid in locale_identifiers() if lid.split("_", 1)[0] in SUPPORTED_LOCALES]


@cache
def country_codes() -> frozenset[str]:
    """The ISO 3166-1 alpha-2 codes of every country or territory we accept."""
    return frozenset(
        code
        for code in babel_locale("en").territories
        if isinstance(code, str)
        and len(code) == 2
        and code.isalpha()
        and code.isupper()
        and code not in _NOT_COUNTRIES
    )


def _iso3166_names() -> Iterable[tuple[str, str]]:
    """(code, English short name) pairs from tzdata's ``iso3166.tab``."""
    try:
        text = resources.files("tzdata").joinpath("zoneinfo", "iso3166.tab").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return []
    pairs = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, _sep, name = line.partition("\t")
            pairs.append((code.strip(), name.strip()))
    return pairs


def _bracketed_parts(name: str) -> tuple[str, list[str]] | None:
    """``"Myanmar (Burma)"`` -> ``("Myanmar", ["Burma"])``; ``None`` without brackets."""
    inner = [part.strip(" ()（）[]") for part in _BRACKETED.findall(name)]
    if not inner:
        return None
    return _BRACKETED.sub(" ", name).strip(), [part for part in inner if part]


def _english_variants(name: str) -> list[str]:
    """Spellings of an English name that people type but CLDR writes differently."""
    variants = []
    for base in (name, _BRACKETED.sub(" ", name).strip()):
        if "&" in base:
            variants.append(base.replace("&", " and "))
        if _SAINT.search(base):
            variants.append(_SAINT.sub("Saint ", base))
            if "&" in base:
                variants.append(_SAINT.sub("Saint ", base).replace("&", " and "))
    return variants


class _IndexBuilder:
    """Collects names and their spellings, then keeps only the keys that name one country."""

    def __init__(self) -> None:
        # language -> folded key -> codes, for names as written and for derived spellings.
        self.verbatim: defaultdict[str, defaultdict[str, set[str]]] = defaultdict(
            lambda: defaultdict(set)
        )
        self.derived: defaultdict[str, defaultdict[str, set[str]]] = defaultdict(
            lambda: defaultdict(set)
        )
        # (language, inner key, outer key, code): "Burma" counts only if "Myanmar" is
        # unambiguous, otherwise "Korea (South)" would make "South" a country.
        self.inner: list[tuple[str, str, str, str]] = []

    def add(self, language: str, code: str, name: str) -> None:
        self.verbatim[language][fold_name(name)].add(code)
        split = _bracketed_parts(name)
        if split is not None:
            outer, inner = split
            outer_key = fold_name(outer)
            self.derived[language][outer_key].add(code)
            self.inner.extend((language, fold_name(part), outer_key, code) for part in inner)
        if language == "en":
            for variant in _english_variants(name):
                self.derived[language][fold_name(variant)].add(code)

    def _resolve(self, key: str) -> str | None:
        # Within one language a real name beats a shortening of another name ("Samoa" is
        # Samoa, although "Samoa (American)" shortens to it too); across languages the
        # names must agree, so "Congo" (the Republic in Spanish, either Congo in English)
        # means nothing on its own and the person is asked instead.
        found: set[str] = set()
        for language in self.verbatim.keys() | self.derived.keys():
            found |= self.verbatim[language].get(key) or self.derived[language].get(key, set())
        return next(iter(found)) if len(found) == 1 else None

    def build(self) -> dict[str, str]:
        """The finished index: folded name -> alpha-2 code."""
        for language, inner_key, outer_key, code in self.inner:
            if self._resolve(outer_key) == code:
                self.derived[language][inner_key].add(code)
        keys = {
            key
            for table in (self.verbatim, self.derived)
            for by_key in table.values()
            for key in by_key
        }
        index: dict[str, str] = {}
        for key in keys:
            found = self._resolve(key) if key else None
            if found is not None:
                index[key] = found
        return index


@cache
def _name_index() -> dict[str, str]:
    """Folded country name -> alpha-2 code, built once from CLDR and tzdata."""
    codes = country_codes()
    builder = _IndexBuilder()
    for locale_id in _our_language_locales():
        territories = load_locale_data(locale_id).get("territories", {})
        for code, name in territories.items():
            if code in codes:
                builder.add(locale_id.split("_", 1)[0], code, name)
    for code, name in _iso3166_names():
        if code in codes:
            builder.add("en", code, name)
    return builder.build()


@cache
def _code_index() -> dict[str, str]:
    """Alpha-2 and alpha-3 codes (and retired codes such as "UK" or "ZAR") -> alpha-2 code."""
    codes = country_codes()
    index = {code: code for code in codes}
    # CLDR's territory aliases map every ISO alpha-3 code (and retired codes) to the alpha-2
    # code that replaced it; aliases that split into several countries (SUN, YUG) are skipped.
    aliases: Mapping[str, list[str]] = get_global("territory_aliases")
    for alias, targets in aliases.items():
        if (
            alias.isalpha()
            and len(alias) in (2, 3)
            and len(targets) == 1
            and targets[0] in codes
            and alias not in index
        ):
            index[alias] = targets[0]
    return index


def resolve_country(text: str, *, codes: bool = True) -> str | None:
    """The ISO 3166-1 alpha-2 code of the country a person typed, or ``None``.

    Accepts a country name in any of the interface languages (case-, accent-, punctuation-
    and space-insensitive) and, unless ``codes`` is false, ISO alpha-2 and alpha-3 codes
    ("UZ", "UZB"). A name shared by two countries ("Congo", "Korea") gives ``None``.
    """
    stripped = text.strip()
    if not stripped:
        return None
    names = _name_index()
    for candidate in (stripped, _LEADING_THE.sub("", stripped)):
        found = names.get(fold_name(candidate))
        if found is not None:
            return found
    if codes:
        compact = stripped.replace(".", "").upper()
        if compact.isascii():
            return _code_index().get(compact)
    return None


def country_name(code: str, locale: str) -> str:
    """The name of the country ``code`` in ``locale``; the code itself if CLDR has no name."""
    normalized = code.strip().upper()
    name = babel_locale(locale).territories.get(normalized)
    return str(name) if name else normalized


def _score(query: str, key: str) -> float:
    """How close a folded query is to a folded name, from 0 to 1."""
    if key == query:
        return 1.0
    if key.startswith(query):
        # A prefix: the person stopped typing early ("Uzbek").
        return 0.95
    if len(key) >= 4 and query.startswith(key):
        # The name followed by more words ("Russian Federation", "Syrian Arab Republic").
        return 0.9
    ratio = difflib.SequenceMatcher(None, query, key).ratio()
    shared = next(
        (i for i, (a, b) in enumerate(zip(query, key, strict=False)) if a != b),
        min(len(query), len(key)),
    )
    if shared >= 4:
        # A long common start outweighs a different ending ("Kyrgyz Republic", "Kyrgyzstan").
        ratio = max(ratio, 0.6 + 0.3 * shared / len(key))
    return ratio


def suggest_countries(text: str, locale: str, limit: int = 5) -> list[tuple[str, str]]:
    """The countries closest to a mistyped or partial name, as ``(code, name in locale)``.

    The best match comes first, and only names nearly as close as the best one are offered;
    an empty list when nothing is reasonably close.
    """
    query = fold_name(text)
    if not query or limit <= 0:
        return []
    best: dict[str, float] = {}
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(query)
    for key, code in _name_index().items():
        matcher.set_seq1(key)
        # The cheap upper bounds skip most of the ~2000 names without the full comparison.
        if (
            not key.startswith(query)
            and key[:4] != query[:4]
            and (matcher.real_quick_ratio() < _CUTOFF or matcher.quick_ratio() < _CUTOFF)
        ):
            continue
        score = _score(query, key)
        if score >= _CUTOFF and score > best.get(code, 0.0):
            best[code] = score
    resolved = resolve_country(text)
    if resolved is not None:
        best[resolved] = 1.0
    # Far weaker matches than the best one are noise ("Grenada" for "Ugnada").
    floor = max(best.values(), default=0.0) - _SPREAD
    best = {code: score for code, score in best.items() if score >= floor}
    names = {code: country_name(code, locale) for code in best}
    ranked = sorted(best, key=lambda code: (-best[code], fold_name(names[code])))
    return [(code, names[code]) for code in ranked[:limit]]
