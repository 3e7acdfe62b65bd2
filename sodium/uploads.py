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


class UploadLimitMiddleware:
    """Answer 413 with a readable page when a request body is larger than any upload allowed.

    Checked on Content-Length before Django reads the body, so an oversized upload is never
    written to disk.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.shortcuts import render

        limit = settings.SODIUM_MAX_UPLOAD_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return render(
                request, "413.html", {"max_mb": max(1, limit // (1024 * 1024))}, status=413
            )
        return self.get_response(request)
