"""Images uploaded to an Official Account as permanent material, each once.

WeChat's mpnews articles need a cover as ``thumb_media_id`` — the media_id of an image already
in the account's material library. ``image_material_media_id`` uploads an image's bytes the
first time and remembers the media_id by their SHA-256 (``ImageMaterial``), so a cover used in
many broadcasts is uploaded once per account. Two workers uploading the same new image at once
both upload (WeChat keeps two copies) and the first row wins; both use a working media_id.
"""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction

from powerdesk.channels.wechat_store.client import WeChatApiClient
from powerdesk.channels.wechat_store.models import ImageMaterial

# WeChat's limit for an image material; larger files are refused before any call.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
_TYPES = {
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
    b"GIF87a": ("image/gif", "gif"),
    b"GIF89a": ("image/gif", "gif"),
    b"BM": ("image/bmp", "bmp"),
}


def image_kind(content: bytes) -> tuple[str, str] | None:
    """(content type, file extension) of a PNG/JPEG/GIF/BMP by its first bytes, else None."""
    for signature, kind in _TYPES.items():
        if content.startswith(signature):
            return kind
    return None


def image_material_media_id(client: WeChatApiClient, content: bytes) -> str:
    """The media_id of ``content`` as a permanent image material of ``client``'s account,
    uploading it the first time. ``ValueError`` for bytes WeChat would refuse (not an image of
    a kind it takes, over 10 MB); ``WeChatApiError`` as the API raises it."""
    kind = image_kind(content)
    if kind is None:
        raise ValueError("not a PNG, JPEG, GIF or BMP image")
    if len(content) > MAX_IMAGE_BYTES:
        raise ValueError(f"image of {len(content)} bytes, over WeChat's {MAX_IMAGE_BYTES}")
    digest = hashlib.sha256(content).hexdigest()
    known = ImageMaterial.objects.filter(app_id=client.app_id, sha256=digest).first()
    if known is not None:
        return known.media_id
    content_type, extension = kind
    media_id = client.material_add_image(
        filename=f"cover-{digest[:16]}.{extension}", content=content, content_type=content_type
    )
    try:
        with transaction.atomic():
            ImageMaterial.objects.create(
                app_id=client.app_id, sha256=digest, media_id=media_id, byte_size=len(content)
            )
    except IntegrityError:  # another worker uploaded the same image meanwhile: use its row
        return ImageMaterial.objects.get(app_id=client.app_id, sha256=digest).media_id
    return media_id
