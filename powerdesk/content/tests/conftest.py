"""Content fixtures: the demo guides (the realistic corpus the ranking tests run against)."""

from __future__ import annotations

import io

import pytest

from powerdesk.content.demo import demo_articles
from powerdesk.content.models import Article


@pytest.fixture
def guides(db) -> dict[str, Article]:
    """The ~16 published demo articles, by slug."""
    demo_articles()
    return {article.slug: article for article in Article.objects.all()}


def png_bytes(size=(8, 6), color=(7, 193, 96)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()
