"""The full-text engine over ArticleSearchEntry: FTS5 on SQLite, a tsvector + GIN on PostgreSQL.

RunPython so each database gets only its own statements; Django's model state knows nothing of
these objects (they are read by raw SQL in content/search.py only).
"""

from django.db import migrations

# Every statement below is a constant built from our own table names: no input reaches it.
# ruff: noqa: S608

FTS = "content_article_fts"
ENTRY = "content_articlesearchentry"
COLUMNS = "title_terms, summary_terms, body_terms"
OLD = "old.title_terms, old.summary_terms, old.body_terms"
NEW = "new.title_terms, new.summary_terms, new.body_terms"

SQLITE_CREATE = [
    # External content: the entry table holds the text once; the triggers keep FTS5 in step with
    # every insert, update and delete of an entry, in the same transaction.
    f"""CREATE VIRTUAL TABLE {FTS} USING fts5({COLUMNS}, content='{ENTRY}', content_rowid='article_id',
        tokenize='unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER {FTS}_ai AFTER INSERT ON {ENTRY} BEGIN
        INSERT INTO {FTS}(rowid, {COLUMNS}) VALUES (new.article_id, {NEW}); END""",
    f"""CREATE TRIGGER {FTS}_ad AFTER DELETE ON {ENTRY} BEGIN
        INSERT INTO {FTS}({FTS}, rowid, {COLUMNS}) VALUES ('delete', old.article_id, {OLD}); END""",
    f"""CREATE TRIGGER {FTS}_au AFTER UPDATE ON {ENTRY} BEGIN
        INSERT INTO {FTS}({FTS}, rowid, {COLUMNS}) VALUES ('delete', old.article_id, {OLD});
        INSERT INTO {FTS}(rowid, {COLUMNS}) VALUES (new.article_id, {NEW}); END""",
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {FTS}_ai",
    f"DROP TRIGGER IF EXISTS {FTS}_ad",
    f"DROP TRIGGER IF EXISTS {FTS}_au",
    f"DROP TABLE IF EXISTS {FTS}",
]

POSTGRES_CREATE = [
    # 'simple': the terms are already words (jieba); only lower-casing, no stemming or stop-words.
    f"""ALTER TABLE {ENTRY} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, coalesce(title_terms, '')), 'A') ||
        setweight(to_tsvector('simple'::regconfig, coalesce(summary_terms, '')), 'B') ||
        setweight(to_tsvector('simple'::regconfig, coalesce(body_terms, '')), 'C')) STORED""",
    f"CREATE INDEX content_search_vector_gin ON {ENTRY} USING GIN (search_vector)",
]
POSTGRES_DROP = [
    "DROP INDEX IF EXISTS content_search_vector_gin",
    f"ALTER TABLE {ENTRY} DROP COLUMN IF EXISTS search_vector",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("content", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        ),
    ]
