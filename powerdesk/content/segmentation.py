"""Chinese word segmentation for the article index: jieba plus a power-domain user dictionary.

One ``jieba.Tokenizer`` of our own (not jieba's global one, which other code may load with other
words), built lazily on first use and shared by every thread of the process: loading the main
dictionary takes about a second, so it happens once, under a lock.

The index and the query are cut the same way (``cut_for_search``, which also yields the shorter
dictionary words inside a long one: 峰谷电价 → 峰谷 电价 峰谷电价), lower-cased, stripped of
everything but letters and digits, and stop-words dropped. What is left is safe to hand to any
full-text engine as a literal term.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import jieba

DICTIONARY_DIR = Path(__file__).resolve().parent / "dictionary"
POWER_TERMS = DICTIONARY_DIR / "power_terms.txt"
STOP_WORDS_FILE = DICTIONARY_DIR / "stop_words.txt"
SYNONYMS_FILE = DICTIONARY_DIR / "synonyms.txt"

# A query longer than this is cut here: nobody types a longer question, and segmentation is linear.
MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 32
MAX_TERM_CHARS = 40

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_stop_words: frozenset[str] | None = None
_synonyms: dict[str, str] | None = None


def _build_tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)  # jieba prints its cache notices at INFO on its own logger
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    tokenizer.load_userdict(str(POWER_TERMS))
    return tokenizer


def tokenizer() -> jieba.Tokenizer:
    """The process-wide tokenizer with the power-domain dictionary loaded (built on first call)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:  # another thread may have built it while we waited
                _tokenizer = _build_tokenizer()
    return _tokenizer


def stop_words() -> frozenset[str]:
    global _stop_words
    if _stop_words is None:
        lines = STOP_WORDS_FILE.read_text(encoding="utf-8").splitlines()
        _stop_words = frozenset(
            line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
        )
    return _stop_words


def synonyms() -> dict[str, str]:
    """``{"交费": "缴费", …}``: what customers type → the term our articles use."""
    global _synonyms
    if _synonyms is None:
        mapping = {}
        for line in SYNONYMS_FILE.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                indexed, *variants = line.split()
                mapping.update({variant.lower(): indexed.lower() for variant in variants})
        _synonyms = mapping
    return _synonyms


def clean_term(raw: str) -> str:
    """Lower case, letters and digits only: no quote, operator or bracket survives."""
    return "".join(ch for ch in raw.lower() if ch.isalnum())[:MAX_TERM_CHARS]


def _terms(text: str, cutter: jieba.Tokenizer) -> list[str]:
    stops = stop_words()
    terms = []
    for piece in cutter.cut_for_search(text):
        term = clean_term(piece)
        if term and term not in stops:
            terms.append(term)
    return terms


def segment_for_index(text: str, *, cutter: jieba.Tokenizer | None = None) -> str:
    """``text`` as space-separated terms, in order and with repeats (term frequency counts)."""
    return " ".join(_terms(text or "", cutter or tokenizer()))


def segment_query(query: str, *, cutter: jieba.Tokenizer | None = None) -> list[str]:
    """The distinct terms of a search query, in order, each followed by the indexed term it is a
    synonym of (dictionary/synonyms.txt); ``[]`` when nothing searchable is left."""
    text = (query or "")[:MAX_QUERY_CHARS]
    seen: dict[str, None] = {}
    expansions = synonyms()
    for term in _terms(text, cutter or tokenizer()):
        seen.setdefault(term, None)
        if term in expansions:  # 交费 also searches 缴费
            seen.setdefault(expansions[term], None)
        if len(seen) >= MAX_QUERY_TERMS:
            break
    return list(seen)[:MAX_QUERY_TERMS]
