"""Hardened uploads: size limits, content-sniffed types and random storage names."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError

LOGO_MAX_BYTES = 1024 * 1024
LOGO_FORMATS = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "WEBP": ("webp", "image/webp"),
}


def random_name(extension: str) -> str:
    """Return an unguessable file name with `extension` (no user-supplied part)."""
    return f"{secrets.token_hex(16)}.{extension}"


def validate_logo(upload: UploadedFile) -> UploadedFile:
    """Check a logo is a small PNG, JPEG or WebP by its content; give it a random name.

    Raises ValidationError with a message for the form.
    """
    if upload.size > LOGO_MAX_BYTES:
        raise ValidationError("The logo is larger than 1 MB. Use a smaller image.")
    try:
        with Image.open(upload) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError("That file is not a PNG, JPEG or WebP image.") from None
    if kind not in LOGO_FORMATS:
        raise ValidationError("That file is not a PNG, JPEG or WebP image.")
    upload.seek(0)
    upload.name = random_name(LOGO_FORMATS[kind][0])
    return upload


def content_type_for_logo(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower()
    for extension, content_type in LOGO_FORMATS.values():
        if extension == ext:
            return content_type
    return "application/octet-stream"
