"""The article index and its two engines, behind ``selectors.article_search``.

Writing: ``index_article`` stores the article's jieba terms in ``ArticleSearchEntry`` (same
transaction as the article write). The engine reads them without further help from Python:

* SQLite — an FTS5 table with external content over the entry table, kept in step by triggers;
  ranked by ``bm25`` with the title weighted 10, the summary 4, the body 1.
* PostgreSQL — a generated ``tsvector`` column over the entry table ('simple' configuration: the
  text is already cut into words, only lower-casing is wanted), title weight A, summary B, body C,
  a GIN index, ranked by ``ts_rank_cd``.

Querying: the query is segmented with the same dictionary; every term is letters and digits only
(``segmentation.clean_term``) and is passed as a bound parameter, quoted as an FTS5 string or fed to
``plainto_tsquery`` — user input never becomes query syntax. Terms are OR-ed; the ranking prefers
articles matching more of them, and matching them in the title.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from powerdesk.content.choices import ArticleStatus
from powerdesk.content.models import Article, ArticleSearchEntry
from powerdesk.content.segmentation import segment_for_index

FTS_TABLE = "content_article_fts"
ENTRY_TABLE = ArticleSearchEntry._meta.db_table
ARTICLE_TABLE = Article._meta.db_table
BM25_WEIGHTS = (10.0, 4.0, 1.0)  # title, summary, body
# ts_rank_cd weights in the order {D, C, B, A}: body is C, summary B, title A.
TS_WEIGHTS = "{0.05, 0.2, 0.5, 1.0}"


def index_article(article: Article) -> ArticleSearchEntry:
    """(Re)write ``article``'s index entry; call inside the transaction that changed the article."""
    entry, _created = ArticleSearchEntry.objects.update_or_create(
        article=article,
        defaults={
            "title_terms": segment_for_index(article.title),
            "summary_terms": segment_for_index(article.summary),
            "body_terms": segment_for_index(article.body),
        },
    )
    return entry


@dataclass(frozen=True)
class RankedId:
    article_id: int
    score: float  # larger is better, on either engine


def ranked_ids(terms: list[str], *, limit: int, published_only: bool) -> list[RankedId]:
    """Article ids matching any of ``terms`` (already cleaned), best first."""
    if not terms or limit <= 0:
        return []
    if connection.vendor == "postgresql":
        return _postgres(terms, limit=limit, published_only=published_only)
    if connection.vendor == "sqlite":
        return _sqlite(terms, limit=limit, published_only=published_only)
    raise NotImplementedError(f"article search has no engine for {connection.vendor}")


def _fts5_string(term: str) -> str:
    # clean_term left letters and digits only; doubling quotes is what FTS5 asks all the same.
    return '"' + term.replace('"', '""') + '"'


def _sqlite(terms: list[str], *, limit: int, published_only: bool) -> list[RankedId]:
    match = " OR ".join(_fts5_string(term) for term in terms)
    published = "AND a.status = %s" if published_only else ""
    params: list = [match]
    if published_only:
        params.append(ArticleStatus.PUBLISHED.value)
    params.append(limit)
    weights = ", ".join(str(weight) for weight in BM25_WEIGHTS)
    sql = f"""
        SELECT f.rowid, bm25({FTS_TABLE}, {weights}) AS rank
          FROM {FTS_TABLE} AS f
          JOIN {ARTICLE_TABLE} AS a ON a.id = f.rowid
         WHERE {FTS_TABLE} MATCH %s {published}
         ORDER BY rank, a.published_at DESC, a.id DESC
         LIMIT %s
    """  # noqa: S608  (table names are ours; every value is a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # bm25 is negative, more negative is better: flip it so larger is better everywhere.
        return [RankedId(int(row[0]), round(-float(row[1]), 6)) for row in cursor.fetchall()]


def _postgres(terms: list[str], *, limit: int, published_only: bool) -> list[RankedId]:
    query = " || ".join(["plainto_tsquery('simple', %s)"] * len(terms))
    published = "AND a.status = %s" if published_only else ""
    params: list = [*terms, TS_WEIGHTS]
    if published_only:
        params.append(ArticleStatus.PUBLISHED.value)
    params.append(limit)
    sql = f"""
        WITH q AS (SELECT ({query}) AS query)
        SELECT e.article_id, ts_rank_cd(%s::float4[], e.search_vector, q.query) AS rank
          FROM {ENTRY_TABLE} AS e
          JOIN {ARTICLE_TABLE} AS a ON a.id = e.article_id, q
         WHERE e.search_vector @@ q.query {published}
         ORDER BY rank DESC, a.published_at DESC NULLS LAST, a.id DESC
         LIMIT %s
    """  # noqa: S608  (table names are ours; every value is a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [RankedId(int(row[0]), round(float(row[1]), 6)) for row in cursor.fetchall()]


def rebuild_engine_index() -> None:
    """Ask the engine to re-read every entry (after a bulk change that bypassed the triggers)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")  # noqa: S608
    # PostgreSQL: the generated column is recomputed on every row write; nothing to do.


def make_snippet(text: str, terms: list[str], *, width: int = 80) -> str:
    """A window of ``text`` around the first term found in it (plain text, for escaping later)."""
    flat = " ".join((text or "").split())
    if not flat:
        return ""
    lowered = flat.lower()
    positions = [lowered.find(term) for term in sorted(terms, key=len, reverse=True)]
    hits = [pos for pos in positions if pos >= 0]
    if not hits:
        return flat[:width] + ("…" if len(flat) > width else "")
    start = max(0, min(hits) - width // 4)
    end = min(len(flat), start + width)
    return ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")
