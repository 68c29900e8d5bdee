"""Matching a trainee's question to the FAQ's entries, offline and in six languages.

Each entry becomes a bag of terms from every language it is written in: word stems (see
:mod:`bot.services.faq.normalise`) and language-neutral concepts for the domain's terms (see
:mod:`bot.services.faq.concepts`), so that a question in a language the entry lacks still
finds it. A question is scored against an entry by how much of the question's weight (inverse
document frequency) the entry covers: terms in a question or keyword phrasing count fully,
terms only in an answer at :data:`ANSWER_WEIGHT`; a word the index has never seen is matched
to its nearest known word by character n-grams (typos), at the weight of that similarity,
and otherwise counts against the score. A small share of the score is how much of the
entry's best-covered question the trainee's words cover, which breaks ties.

Pure code: no database, no network. Build a :class:`Matcher` once per FAQ, call
:meth:`Matcher.ask` from a worker thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.services.faq import normalise
from bot.services.faq.concepts import CONCEPTS

#: The first match is shown on its own at this score or above. Set on the tune half of
#: ``benchmarks/data/faq_questions.yaml`` only (``python -m benchmarks faq`` prints the figures):
#: there, the highest-scoring wrong first match scored 0.66; 0.7 is just above it.
CONFIDENT = 0.7
#: Below this nothing is suggested and a person answers. Set on the tune half only: its
#: off-topic questions scored at most 0.20, its right first matches at least 0.41 (the lowest
#: escalated ones 0.41); 0.3 sits between them.
SUGGEST = 0.3
#: How much a term found only in an entry's answer counts, against 1 in a question.
ANSWER_WEIGHT = 0.35
#: Share of the score given to how much of the entry's own question the words cover.
QUESTION_SHARE = 0.15
#: A word unknown to the index borrows the nearest known word at or above this similarity.
FUZZY_FLOOR = 0.5
#: A word the index has never seen weighs this share of the rarest known word's weight.
UNKNOWN_SHARE = 0.5
MAX_MATCHES = 3


@dataclass(frozen=True)
class EntryText:
    """One FAQ entry as the matcher sees it."""

    id: str
    category: str
    questions: Mapping[str, str]
    answers: Mapping[str, str]
    keywords: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Match:
    id: str
    score: float


@dataclass(frozen=True)
class Verdict:
    matches: tuple[Match, ...]
    escalate: bool
    confident: bool


def _concept_index() -> dict[str, str]:
    found: dict[str, str] = {}
    for concept, by_language in CONCEPTS.items():
        for phrases in by_language.values():
            normalise.add_words(phrases)
        for lang, phrases in by_language.items():
            for phrase in phrases:
                folded = normalise.fold(phrase)
                found.setdefault(folded, concept)
                for surface, stemmed in normalise.analyse(phrase, lang):
                    found.setdefault(stemmed, concept)
                    found.setdefault(surface, concept)
    return found


def _ngrams(word: str) -> set[str]:
    n = 2 if normalise.script_language(word, "en") == "zh" else 3
    padded = word if n == 2 else f"^{word}$"
    return {padded[i : i + n] for i in range(max(1, len(padded) - n + 1))}


class Matcher:
    """An index over one FAQ, built once; :meth:`ask` is cheap and thread safe."""

    def __init__(self, entries: Sequence[EntryText]) -> None:
        self._concepts = _concept_index()
        self._ids = [entry.id for entry in entries]
        self._question_terms: list[set[str]] = []
        self._answer_terms: list[set[str]] = []
        self._variants: list[list[set[str]]] = []
        self._surfaces: dict[str, str] = {}
        for entry in entries:
            variants = [self._terms(text, lang) for lang, text in entry.questions.items()]
            variants += [
                self._terms(text, lang) for lang, texts in entry.keywords.items() for text in texts
            ]
            answers = set().union(
                *(self._terms(text, lang) for lang, text in entry.answers.items())
            )
            self._variants.append([v for v in variants if v])
            self._question_terms.append(set().union(*variants))
            self._answer_terms.append(answers)
        document_frequency: dict[str, int] = defaultdict(int)
        self._postings: dict[str, list[int]] = defaultdict(list)
        for number, (asked, answered) in enumerate(
            zip(self._question_terms, self._answer_terms, strict=True)
        ):
            for term in asked | answered:
                document_frequency[term] += 1
                self._postings[term].append(number)
        count = max(1, len(entries))
        self._idf = {t: math.log(1 + count / df) for t, df in document_frequency.items()}
        self._unknown_idf = UNKNOWN_SHARE * math.log(1 + count)
        self._grams: dict[str, set[str]] = defaultdict(set)
        for surface in self._surfaces:
            for gram in _ngrams(surface):
                self._grams[gram].add(surface)

    def _terms(self, text: str, lang: str, *, learn: bool = True) -> set[str]:
        found: set[str] = set()
        for surface, stemmed in normalise.analyse(text, lang):
            term = self._concepts.get(stemmed) or self._concepts.get(surface)
            term = f"#{term}" if term else stemmed
            found.add(term)
            if learn:
                self._surfaces.setdefault(surface, term)
        return found

    def _nearest(self, surface: str) -> tuple[str, float] | None:
        """The known term whose written word is nearest ``surface``, with the similarity."""
        if len(surface) < 4 and normalise.script_language(surface, "en") != "zh":
            return None
        grams = _ngrams(surface)
        counts: dict[str, int] = defaultdict(int)
        for gram in grams:
            for known in self._grams.get(gram, ()):
                counts[known] += 1
        best: tuple[str, float] | None = None
        for known, shared in counts.items():
            similarity = shared / len(grams | _ngrams(known))
            if similarity >= FUZZY_FLOOR and (best is None or similarity > best[1]):
                best = (self._surfaces[known], similarity)
        return best

    def _query(self, text: str, lang: str) -> list[tuple[str | None, float]]:
        """The question's terms with their weights; ``None`` for a word nothing resembles."""
        terms: dict[str | None, float] = {}
        unknown = 0
        for surface, stemmed in normalise.analyse(text, lang):
            concept = self._concepts.get(stemmed) or self._concepts.get(surface)
            term: str | None = f"#{concept}" if concept else stemmed
            weight = 1.0
            if term not in self._idf:
                near = self._nearest(surface)
                term, weight = near if near else (None, 1.0)
            if term is None:
                unknown += 1
                terms[f"?{unknown}"] = self._unknown_idf
                continue
            terms[term] = max(terms.get(term, 0.0), weight * self._idf[term])
        return [(None if t is None or t.startswith("?") else t, w) for t, w in terms.items()]

    def ask(self, text: str, lang: str) -> Verdict:
        """The best entries for ``text`` (asked in ``lang``), and what to do with them."""
        query = self._query(text, lang)
        total = sum(weight for _, weight in query)
        if total <= 0:
            return Verdict(matches=(), escalate=True, confident=False)
        credit: dict[int, float] = defaultdict(float)
        known = {term: weight for term, weight in query if term is not None}
        for term, weight in known.items():
            for number in self._postings.get(term, ()):
                in_question = term in self._question_terms[number]
                credit[number] += weight * (1.0 if in_question else ANSWER_WEIGHT)
        scored: list[Match] = []
        for number, got in credit.items():
            coverage = got / total
            covered = max(
                (len(v & known.keys()) / len(v) for v in self._variants[number]), default=0.0
            )
            score = (1 - QUESTION_SHARE) * coverage + QUESTION_SHARE * covered
            scored.append(Match(id=self._ids[number], score=round(min(1.0, score), 4)))
        scored.sort(key=lambda m: (-m.score, m.id))
        matches = tuple(scored[:MAX_MATCHES])
        best = matches[0].score if matches else 0.0
        return Verdict(matches=matches, escalate=best < SUGGEST, confident=best >= CONFIDENT)


def entries_from_faq(raw: Iterable[Mapping[str, object]]) -> list[EntryText]:
    """EntryText from entries in the sample FAQ's shape (id, category, per language q/a)."""
    found: list[EntryText] = []
    for item in raw:
        questions: dict[str, str] = {}
        answers: dict[str, str] = {}
        keywords: dict[str, list[str]] = {}
        for lang in normalise.LANGUAGES:
            texts = item.get(lang)
            if isinstance(texts, Mapping):
                questions[lang] = str(texts.get("q", ""))
                answers[lang] = str(texts.get("a", ""))
                extra = texts.get("keywords")
                if isinstance(extra, list):
                    keywords[lang] = [str(k) for k in extra]
        found.append(
            EntryText(
                id=str(item["id"]),
                category=str(item.get("category", "")),
                questions=questions,
                answers=answers,
                keywords=keywords,
            )
        )
    return found
