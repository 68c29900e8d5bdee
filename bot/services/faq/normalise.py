"""Text to terms for the FAQ matcher: normalising, segmenting, stemming, stop words.

Everything here is offline and deterministic. A text goes through NFKC and case folding,
Arabic normalisation (harakat, tatweel, the alef forms, alef maqsura, ta marbuta), then is cut
into words by script: Chinese runs are segmented by jieba (its dictionary loaded once, lazily,
its log silenced), the rest split on letters and digits. Each word is stemmed by the language
it is written in (Snowball for English, Russian, French and Spanish; a light prefix and suffix
strip for Arabic), accents are folded for Latin script, and stop words are dropped.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any, Final

import snowballstemmer

LANGUAGES = ("en", "zh", "ru", "fr", "es", "ar")

_HARAKAT = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_TATWEEL = "\u0640"
_ARABIC_MAP = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_WORD = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]+|[^\W_]+", re.UNICODE)
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")

_SNOWBALL = {"en": "english", "ru": "russian", "fr": "french", "es": "spanish"}
_ARABIC_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ف", "ل", "ك", "س")
_ARABIC_SUFFIXES = ("كما", "هما", "ات", "ون", "ين", "ان", "ها", "هم", "كم", "نا", "يه", "ه", "ي")

#: Words that carry no meaning for matching, written as people type them (folded later).
_STOP: dict[str, str] = {
    "en": """a an the i me my we you your is are am be was were do does did have has had
        can could will would should shall may might must to of in on at for by with from
        and or if so it this that what when where who whom which how why there here any
        get got please hi hello thanks thank not no yes im dont cant isnt about into
        during after before now s t d ll m ve re""",
    "ru": """я мы вы ты он она они мой моя мое мои ваш ваша наш и или а но в во на по с
        со к ко у о об от до для из за при это этот эта как что где когда кто почему
        ли ли ли же бы не нет да есть можно ли мне меня нам вам быть будет если то
        так там тут здравствуйте привет спасибо пожалуйста какой какая какие""",
    "fr": """je j me m moi tu te t vous nous il elle ils elles le la les l un une des du de
        d au aux et ou mais si ce c cet cette ces mon ma mes ton ta tes votre vos notre
        nos son sa ses est sont suis ai as a avez avons ont être avoir que qu qui quoi
        comment où quand pourquoi quel quelle quels quelles pour par avec dans sur en
        y ne pas plus est-ce bonjour merci svp peut peux faire fait il y a""",
    "es": """yo me mi mis tu tú te su sus usted ustedes nosotros el la los las lo un una
        unos unas de del al a y o pero si se es son soy estoy está hay que qué como
        cómo donde dónde cuando cuándo quien quién por para con en sobre mi mis le les
        puedo puede hola gracias favor hago hacer tengo tiene muy ya no""",
    "ar": """في من على الى إلى عن مع هل ما ماذا كيف متى اين أين لماذا هذا هذه ذلك تلك
        انا أنا نحن انت أنت هو هي هم او أو ثم لا نعم يا كل اي أي لي لك لنا عند قد
        مرحبا شكرا السلام عليكم من فضلك""",
    "zh": """的 了 吗 呢 吧 啊 是 我 我们 你 您 他 她 在 有 和 与 或 就 都 也 还 要 会 能
        可以 怎么 怎样 如何 什么 哪里 哪儿 为什么 吗 请问 请 一下 这个 那个 这 那 个 对
        你好 谢谢 啥 么 不 没 没有 嗎 麼 在哪里 在哪 哪里 怎么办 怎么样 能 吗""",
}

_lock = threading.Lock()
_jieba: Any = None
_stemmers: dict[str, Any] = {}
_stop: set[str] | None = None
_extra_words: set[str] = set()


def fold(text: str) -> str:
    """NFKC, case folded, Arabic normalised; Latin letters lose their accents."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _HARAKAT.sub("", text.replace(_TATWEEL, "")).translate(_ARABIC_MAP)
    return text.replace("’", "'").replace("ʼ", "'")


def _unaccent(word: str) -> str:
    """Latin accents off (é -> e, ñ -> n); other scripts as they are."""
    if not word.isascii() and not _CYRILLIC.search(word) and not _ARABIC.search(word):
        decomposed = unicodedata.normalize("NFD", word)
        return "".join(c for c in decomposed if not unicodedata.combining(c))
    if _CYRILLIC.search(word):
        return word.replace("ё", "е").replace("й", "и")
    return word


def add_words(words: Iterable[str]) -> None:
    """Teach the Chinese segmenter words it must keep whole (domain terms)."""
    with _lock:
        fresh = {w for w in words if _HAN.search(w)} - _extra_words
        _extra_words.update(fresh)
        if _jieba is not None:
            for word in fresh:
                _jieba.add_word(word, freq=200000)


def _segmenter() -> Any:
    global _jieba
    if _jieba is None:
        with _lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                logging.getLogger("jieba").setLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                for word in _extra_words:
                    tokenizer.add_word(word, freq=200000)
                _jieba = tokenizer
    return _jieba


def _stemmer(lang: str) -> Any:
    stemmer = _stemmers.get(lang)
    if stemmer is None:
        stemmer = snowballstemmer.stemmer(_SNOWBALL[lang])
        _stemmers[lang] = stemmer
    return stemmer


def _stem_arabic(word: str) -> str:
    for prefix in _ARABIC_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            word = word[len(prefix) :]
            break
    for suffix in _ARABIC_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word


def _stop_words() -> set[str]:
    global _stop
    if _stop is None:
        words: set[str] = set()
        for lang, text in _STOP.items():
            for word in fold(text).split():
                words.add(_unaccent(word))
                if lang == "ar":
                    words.add(_stem_arabic(word))
        _stop = words
    return _stop


def script_language(word: str, lang: str) -> str:
    """The language whose rules apply to ``word``, typed by someone writing in ``lang``."""
    if _HAN.search(word):
        return "zh"
    if _ARABIC.search(word):
        return "ar"
    if _CYRILLIC.search(word):
        return "ru"
    return lang if lang in ("en", "fr", "es") else "en"


def stem(word: str, lang: str) -> str:
    """One folded word's stem under ``lang``'s rules (see :func:`script_language`)."""
    if lang == "ar":
        return _stem_arabic(word)
    if lang in _SNOWBALL:
        return _unaccent(_stemmer(lang).stemWord(word))
    return word


#: Phrases that mean one thing as a whole: Arabic "via the internet" is "online" (a session),
#: not the internet connection a dropped call is about.
_PHRASES: Final = {"عبر الانترنت": "اونلاين", "على الانترنت": "اونلاين"}


def words(text: str) -> Iterator[str]:
    """The folded words of ``text``, Chinese runs segmented, stop words kept."""
    folded = fold(text)
    for phrase, word in _PHRASES.items():
        folded = folded.replace(phrase, word)
    for run in _WORD.findall(folded):
        if _HAN.match(run):
            yield from (w for w in _segmenter().cut(run) if w.strip())
        else:
            yield from (part for part in re.split(r"'", run) if part)


def analyse(text: str, lang: str) -> list[tuple[str, str]]:
    """``(surface, stem)`` for every meaningful word of ``text`` written in ``lang``."""
    stop = _stop_words()
    found: list[tuple[str, str]] = []
    for word in words(text):
        surface = _unaccent(word)
        if surface in stop or word in stop:
            continue
        rules = script_language(word, lang)
        stemmed = stem(word, rules)
        if not stemmed or stemmed in stop:
            continue
        found.append((surface, stemmed))
    return found
