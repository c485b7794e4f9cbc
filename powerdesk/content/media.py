"""Where cover images live and what we accept as one.

Covers go under ``VAR_DIR/media/content/`` with a generated name (never the uploader's), read at
use time so a test's own VAR_DIR applies. There is no MEDIA_URL: the H5 and console views serve a
cover through a view that first checks the article may be seen.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property

COVER_MAX_BYTES = 2 * 1024 * 1024
COVER_MAX_PIXELS = 4096 * 4096  # far beyond a phone screen; refuses decompression bombs
# Pillow format → (extension we store, content type we serve)
COVER_FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
COVER_EXTENSIONS = {"jpg", "jpeg", "png", "webp"}
CONTENT_TYPES = {ext: content_type for ext, content_type in COVER_FORMATS.values()} | {"jpeg": "image/jpeg"}


@deconstructible
class ContentMediaStorage(FileSystemStorage):
    """FileSystemStorage rooted in the current VAR_DIR (looked up per instance use, not at import)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def base_location(self):  # type: ignore[override]
        return Path(settings.VAR_DIR) / "media" / "content"

    @property
    def location(self):  # type: ignore[override]
        return str(Path(self.base_location).resolve())

    @cached_property
    def base_url(self):
        return None


content_media_storage = ContentMediaStorage()


def cover_upload_to(instance, filename: str) -> str:
    extension = Path(filename).suffix.lower().lstrip(".") or "jpg"
    return f"covers/{uuid.uuid4().hex}.{extension}"


def cover_content_type(name: str) -> str:
    return CONTENT_TYPES.get(Path(name).suffix.lower().lstrip("."), "application/octet-stream")
