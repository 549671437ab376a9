"""Inflected forms of the pack's keywords, so that "sąsiedzi" matches "sąsiadów" and "zasiegiem" matches "zasięg".

Polish inflection changes stems (sąsiad → sąsiedzi, mąż → męża), which no prefix or hand-written stemmer gets
right. simplemma (PyPI, its Polish and English dictionaries inside the wheel) maps millions of word forms to
their lemmas; we need only the forms of the lemmas the pack's keywords use, and we need them without diacritics,
because notes are often typed without them. So: each keyword word is lemmatized, one pass over the dictionaries
collects every form of those lemmas, folded like the text they are matched against, and the table is cached on
disk (loading the dictionaries takes seconds; reading the cached table, milliseconds).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

LANGUAGES = ("pl", "en")
MIN_LEMMA_CHARS = 3  # "i", "w", "go": too short to stand for a word's family
_FORMAT = "5"  # bump when _build changes what it makes (the cache key)
MIN_STEM_CHARS = 4  # shorter stems would pull in the forms of too many lemmas


def cache_dir() -> Path:
    """Shared by every process on the machine (tests start many backends), like the llama-server build."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sufler" / "lemmas"


TYPO_MIN_CHARS = 7  # keyword words this long or longer match a word with one typo, unless that is a real word


class Lemmas:
    """Folded word form → the folded lemmas it may be a form of (only lemmas some keyword uses), and the real
    words one typo away from a long keyword word ("compute" is not a typo of "commute")."""

    def __init__(
        self,
        table: dict[str, tuple[str, ...]],
        keyword_lemmas: dict[str, tuple[str, ...]],
        real_words: frozenset[str] = frozenset(),
    ) -> None:
        self._table = table
        self._keyword_lemmas = keyword_lemmas
        self._real_words = real_words

    def is_real_word(self, folded_word: str) -> bool:
        """Whether a word one typo away from some keyword word is a word of its own (then it is no typo)."""
        return folded_word in self._real_words or folded_word in self._table

    def forms(self, folded_word: str) -> tuple[str, ...]:
        """The word itself and the lemmas it is a form of."""
        return (folded_word, *self._table.get(folded_word, ()))

    def of_keyword_word(self, folded_word: str) -> tuple[str, ...]:
        """What a keyword's word stands for: itself and its lemmas."""
        return (folded_word, *self._keyword_lemmas.get(folded_word, ()))

    @classmethod
    def none(cls) -> Lemmas:
        """Exact words only (unit tests of the matcher without the dictionaries)."""
        return cls({}, {})

    @classmethod
    def for_words(
        cls, words: Iterable[str], stems: Iterable[str], fold: Callable[[str], str], directory: Path | None = None
    ) -> Lemmas:
        """The table for these keyword words and stems (lowercase, with their diacritics: "sąsiad" for
        "sąsiad*" also finds "sąsiedzi", a form of a lemma it starts), from the cache when it has it."""
        import simplemma  # imported here: its import is cheap, its dictionaries are not (loaded on first use)

        wanted = sorted({w for w in words if len(w) >= MIN_LEMMA_CHARS and w.isalpha()})
        stemmed = sorted({s for s in stems if len(s) >= MIN_STEM_CHARS and s.isalpha()})
        key = hashlib.sha256("\n".join([_FORMAT, simplemma.__version__, *wanted, "*", *stemmed]).encode()).hexdigest()[
            :24
        ]
        path = (directory or cache_dir()) / f"{key}.json"
        try:
            cached = json.loads(path.read_text(encoding="utf-8"))
            return cls(_tuples(cached["table"]), _tuples(cached["keywords"]), frozenset(cached["real_words"]))
        except (OSError, ValueError, KeyError):
            pass
        table, keyword_lemmas, real_words = _build(wanted, stemmed, fold)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            data = {"table": table, "keywords": keyword_lemmas, "real_words": real_words}
            tmp.write_text(json.dumps(data), encoding="utf-8")
            tmp.replace(path)  # atomic: a concurrent reader sees the whole file or none
        except OSError:
            pass  # a read-only cache costs the build at each start, nothing else
        return cls(_tuples(table), _tuples(keyword_lemmas), frozenset(real_words))


def _tuples(data: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {k: tuple(v) for k, v in data.items()}


def deletes(word: str) -> set[str]:
    """The word with one letter left out, each way (an index of these finds words one edit apart)."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance of at most one (one letter missing, added, changed, or two swapped)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


_POLISH = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzacelnoszz")


def _fast_fold(fold: Callable[[str], str]) -> Callable[[str], str]:
    """``fold`` for millions of dictionary words: Polish letters by a table, ``fold`` only for the rest."""

    def fast(word: str) -> str:
        plain = word.translate(_POLISH).lower()
        return plain if plain.isascii() else fold(word)

    return fast


Built = tuple[dict[str, list[str]], dict[str, list[str]], list[str]]


def _build(words: list[str], stems: list[str], fold: Callable[[str], str]) -> Built:
    from simplemma.strategies.dictionaries.dictionary_factory import DefaultDictionaryFactory

    factory = DefaultDictionaryFactory()
    fold = _fast_fold(fold)
    typo_words = {fold(w) for w in words if len(w) >= TYPO_MIN_CHARS}
    near: dict[str, set[str]] = {}  # a deletion -> the typo-able keyword words it comes from
    for word in typo_words:
        for variant in deletes(word) | {word}:
            near.setdefault(variant, set()).add(word)
    # Typos are forgiven only after three right letters: a real word one edit from a keyword word starts like it
    # and is about as long (in bytes, as stored: a Polish letter takes two).
    lengths_by_start: dict[bytes, set[int]] = {}
    for word in typo_words:
        lengths_by_start.setdefault(word[:3].encode(), set()).update(range(len(word) - 1, len(word) + 4))
    stems_by_start: dict[bytes, list[bytes]] = {}  # first 3 bytes of a stem as written -> the stems
    for stem in stems:
        stems_by_start.setdefault(stem.encode()[:3], []).append(stem.encode())
    real_words: set[str] = set()
    table: dict[str, set[str]] = {}
    keyword_lemmas: dict[str, set[str]] = {}
    for language in LANGUAGES:
        # The dictionary maps bytes to bytes; comparing bytes spares decoding millions of entries.
        dictionary: dict[bytes, bytes] = factory.get_dictionary(language)._dict  # type: ignore[attr-defined]
        wanted = {w.encode() for w in words}
        for word in words:
            lemma = dictionary.get(word.encode())
            if lemma is not None and len(lemma) >= MIN_LEMMA_CHARS:
                wanted.add(lemma)
                if fold(lemma.decode()) != fold(word):
                    keyword_lemmas.setdefault(fold(word), set()).add(fold(lemma.decode()))
        for form, lemma_bytes in dictionary.items():
            if lemma_bytes in wanted or any(lemma_bytes.startswith(s) for s in stems_by_start.get(lemma_bytes[:3], ())):
                folded_form, folded_lemma = fold(form.decode()), fold(lemma_bytes.decode())
                if folded_form != folded_lemma:
                    table.setdefault(folded_form, set()).add(folded_lemma)
            if len(form) in lengths_by_start.get(form[:3].lower(), ()):
                folded_form = fold(form.decode())
                close = set().union(*(near.get(v, ()) for v in deletes(folded_form) | {folded_form}))
                if any(within_one_edit(folded_form, w) for w in close - {folded_form}):
                    real_words.add(folded_form)
    return (
        {k: sorted(v) for k, v in table.items()},
        {k: sorted(v) for k, v in keyword_lemmas.items()},
        sorted(real_words),
    )
