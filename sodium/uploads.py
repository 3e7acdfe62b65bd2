"""Hardened uploads: size limits, content-sniffed types, random storage names, a scan for
web-page markup hidden in files, downloads that never render, and logos re-encoded so that
only their pixels are stored.

`check_file(upload, allowed)` is what every app's uploads go through: under the size limit,
not empty, an extension on the app's `AllowList`, text that decodes and holds no web-page
markup, binary bytes that sniff (with `filetype`) as what the name says and carry no web page
inside. Apps add their own checks after it (the portal's Office structure and CSV formulas).
`attachment_response` serves a stored file as an attachment with `nosniff` and a sandbox."""

from __future__ import annotations

import dataclasses
import io
import re
import secrets
import warnings
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import IO

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.template.defaultfilters import filesizeformat
from PIL import Image, ImageOps

LOGO_MAX_BYTES = 1024 * 1024
# A logo never needs more; checked from the header, before any pixel is decoded.
LOGO_MAX_SIDE = 4000
LOGO_FORMATS = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "WEBP": ("webp", "image/webp"),
}
_NOT_AN_IMAGE = "That file is not a PNG, JPEG or WebP image."

# Markup a browser would run or render if it ever treated the file as a web page.
# Text files have no reason to hold any tag, so any of these refuses them.
# Besides the named tags: any tag with an event handler ("<details open ontoggle=", "<image
# onerror="), any element written as a tag with an attribute ("<video src=") or closed ("<b>"),
# and javascript: URLs, so the list need not name every element a browser knows.
_ANY_TAG_HANDLER = (
    rb"|<[a-z][a-z0-9-]{0,30}[\s/][^<>]{0,200}?\bon[a-z]{3,30}\s{0,8}=|javascript\s{0,8}:"
)
TEXT_MARKUP = re.compile(
    rb"<(?:!doctype|\?xml|/?(?:html|head|body|script|style|svg|math|iframe|frame|frameset"
    rb"|object|embed|applet|img|meta|link|base|form|input|template|xml)[\s/>])"
    rb"|<[a-z][a-z0-9-]{0,30}(?:\s+[a-z-]{1,30}\s{0,8}=|\s{0,8}/?>)" + _ANY_TAG_HANDLER,
    re.IGNORECASE,
)
# In binary files (compressed image data, PDF streams, zip members) short byte runs like
# "<svg " turn up by chance, so short tags count only with an attribute after them
# ("<svg onload=", "<img src="): a chance match is then below one in 2**20 even for the
# largest upload, while every tag that makes a polyglot dangerous is still caught.
BINARY_MARKUP = re.compile(
    rb"<(?:!doctype\s+html|(?:html|head|body|script|iframe|frame|frameset|object|embed"
    rb"|applet|style)[\s/>]|(?:svg|img|meta|link|base|form|math)[\s/]{1,8}[a-z-]{1,20}"
    rb"\s{0,8}=)" + _ANY_TAG_HANDLER,
    re.IGNORECASE,
)
_SCAN_CHUNK = 1024 * 1024
_SCAN_OVERLAP = 64  # longer than any match, so a tag split across two chunks is still found


def random_name(extension: str) -> str:
    """Return an unguessable file name with `extension` (no user-supplied part)."""
    return f"{secrets.token_hex(16)}.{extension}"


def find_markup(handle: IO[bytes], pattern: re.Pattern[bytes]) -> str | None:
    """Return the first markup `pattern` finds in the whole file (e.g. "<script"), or None.

    Reads in bounded chunks from the start and leaves the file at its start.
    """
    handle.seek(0)
    tail = b""
    try:
        while chunk := handle.read(_SCAN_CHUNK):
            found = pattern.search(tail + chunk)
            if found:
                tag = re.match(rb"<[!?/]?[a-zA-Z]*|[a-zA-Z]+", found.group()).group()
                return tag.decode("ascii").lower()
            tail = chunk[-_SCAN_OVERLAP:]
    finally:
        handle.seek(0)
    return None


class UploadRefused(Exception):
    """The file is refused; the message says why, for the person uploading."""


@dataclasses.dataclass(frozen=True)
class AllowList:
    """What one kind of upload accepts: extension → the content types its bytes may sniff as
    (`binary`), or the content type of a text format (`text`, no signature: it must decode),
    and the sentence that says so to a person."""

    binary: Mapping[str, frozenset[str]]
    text: Mapping[str, str]
    accepted: str  # "Upload PDF, images, … files."
    verb: str = "Upload"  # what the person does: "Upload", "Attach"

    def __contains__(self, ext: str) -> bool:
        return ext in self.binary or ext in self.text


def max_upload_bytes() -> int:
    return settings.SODIUM_MAX_UPLOAD_BYTES


def file_name(upload: UploadedFile) -> str:
    """Return the upload's own name without any folder part."""
    return PurePath(upload.name or "").name


def check_file(upload: UploadedFile, allowed: AllowList) -> str:
    """Return the extension of a file `allowed` accepts, or raise UploadRefused saying why.

    Reads only the first 8 KB to sniff, then scans the whole file for markup in bounded
    chunks; leaves the file at its start.
    """
    name = file_name(upload) or "The file"
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    limit = max_upload_bytes()
    if upload.size > limit:
        raise UploadRefused(
            f"{name} is larger than {filesizeformat(limit)}. {allowed.verb} a smaller file."
        )
    if not upload.size:
        raise UploadRefused(f"{name} is empty.")
    if ext not in allowed:
        raise UploadRefused(f"{name}: this type of file is not accepted. {allowed.accepted}")
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    if ext in allowed.text:
        if b"\x00" in head or _looks_binary(head):
            raise UploadRefused(f"{name} does not contain text, so it is not a .{ext} file.")
        tag = find_markup(upload, TEXT_MARKUP)
        if tag:
            raise UploadRefused(
                f"{name} contains web-page code (“{tag}”), which a .{ext} file may not hold. "
                f"{allowed.verb} it as plain text or as a PDF."
            )
        return ext
    kind = filetype.guess(head)
    if kind is None or kind.mime not in allowed.binary[ext]:
        raise UploadRefused(
            f"{name} is not really a .{ext} file: its contents do not match its name."
        )
    tag = find_markup(upload, BINARY_MARKUP)
    if tag:
        raise UploadRefused(
            f"{name} has web-page code (“{tag}”) hidden inside it, so it is refused for "
            "safety. Save or export the file again from the program that made it."
        )
    return ext


def _looks_binary(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        return exc.start < len(head) - 4
    return False


# What a download may never do in the browser: run, render inline or be cached by proxies.
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


def attachment_response(handle: IO[bytes], *, filename: str, content_type: str) -> FileResponse:
    """Serve an open stored file as an attachment under `filename`, never inline."""
    response = FileResponse(
        handle, as_attachment=True, filename=filename, content_type=content_type
    )
    for header, value in DOWNLOAD_HEADERS.items():
        response[header] = value
    return response


def validate_logo(upload: UploadedFile) -> ContentFile:
    """Check a logo is a small PNG, JPEG or WebP by its content; return it re-encoded.

    Only the pixels survive: metadata, trailing bytes (an HTML page glued to a PNG) and
    animation frames after the first are dropped, and the file gets a random name.
    Raises ValidationError with a message for the form.
    """
    if upload.size > LOGO_MAX_BYTES:
        raise ValidationError("The logo is larger than 1 MB. Use a smaller image.")
    too_big = f"The logo is too large: use one at most {LOGO_MAX_SIDE} pixels wide and high."
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                kind = image.format
                if kind not in LOGO_FORMATS:
                    raise ValidationError(_NOT_AN_IMAGE)
                if max(image.size) > LOGO_MAX_SIDE:
                    raise ValidationError(too_big)
                data = _reencode(image, kind)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(too_big) from None
    except ValidationError:
        raise
    except Exception:  # noqa: BLE001 - Pillow raises many kinds of error on a malformed file
        raise ValidationError(_NOT_AN_IMAGE) from None
    finally:
        upload.seek(0)
    return ContentFile(data, name=random_name(LOGO_FORMATS[kind][0]))


def _reencode(image: Image.Image, kind: str) -> bytes:
    image.seek(0)  # the first frame of an animation
    ImageOps.exif_transpose(image, in_place=True)  # keep the orientation EXIF asked for
    keep_alpha = kind != "JPEG" and (
        image.mode in ("RGBA", "LA", "PA") or image.has_transparency_data
    )
    pixels = image.convert("RGBA" if keep_alpha else "RGB")
    # The encoders copy EXIF, ICC profiles, XMP and comments from `info`: keep none of it.
    pixels.info = {}
    out = io.BytesIO()
    if kind == "PNG":
        pixels.save(out, "PNG", optimize=True)
    elif kind == "JPEG":
        pixels.save(out, "JPEG", quality=90, optimize=True)
    else:
        pixels.save(out, "WEBP", quality=90)
    return out.getvalue()


def content_type_for_logo(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower()
    for extension, content_type in LOGO_FORMATS.values():
        if extension == ext:
            return content_type
    return "application/octet-stream"


# Paths whose uploads may be larger than SODIUM_MAX_UPLOAD_BYTES: (compiled pattern, a
# function returning the limit in bytes). Apps register theirs when they load.
_LARGER_UPLOADS: list[tuple[re.Pattern[str], Callable[[], int]]] = []


def allow_larger_uploads(path_pattern: str, limit: Callable[[], int]) -> None:
    """Let requests to paths matching `path_pattern` (a regex) carry up to `limit()` bytes.

    For the one form that takes big files (a ledger export), so the rest keep the small limit.
    """
    _LARGER_UPLOADS.append((re.compile(path_pattern), limit))


def upload_limit_for(path: str) -> int:
    """Return the largest request body accepted for `path`, in bytes."""
    from django.conf import settings

    for pattern, limit in _LARGER_UPLOADS:
        if pattern.match(path):
            return max(limit(), settings.SODIUM_MAX_UPLOAD_BYTES)
    return settings.SODIUM_MAX_UPLOAD_BYTES


class UploadLimitMiddleware:
    """Answer 413 with a readable page when a request body is larger than any upload allowed.

    Checked on Content-Length before Django reads the body, so an oversized upload is never
    written to disk. The limit is SODIUM_MAX_UPLOAD_BYTES, or a larger one an app registered
    for its path (`allow_larger_uploads`).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.shortcuts import render

        limit = upload_limit_for(request.path_info)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return render(
                request, "413.html", {"max_mb": max(1, limit // (1024 * 1024))}, status=413
            )
        return self.get_response(request)
