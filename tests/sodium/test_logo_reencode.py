"""The practice logo is served publicly, so it is re-encoded: only its pixels are stored."""

from __future__ import annotations

import io
import struct
import zlib

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, PngImagePlugin

from sodium.models import Practice
from tests.base import BaseTestCase

URL = reverse("sodium:practice-settings")
HTML_PAGE = b"<html><body><script>fetch('/settings/members/')</script></body></html>"


def png(size=(6, 4), colour=(200, 30, 30, 128), **save) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", size, colour).save(buf, "PNG", **save)
    return buf.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` × `height` pixels (the data is never decoded)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    head = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk
    head += struct.pack(">I", zlib.crc32(chunk))
    idat = zlib.compress(b"\0" * 16)
    head += (
        struct.pack(">I", len(idat))
        + b"IDAT"
        + idat
        + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    )
    return head + b"\0\0\0\0IEND\xaeB`\x82"


class LogoReencodingTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.owner)

    def post(self, content: bytes, filename: str = "logo.png"):
        return self.client.post(
            URL,
            {
                "name": "Ledger & Co",
                "sender_name": "",
                "reply_to": "",
                "primary_colour": "#1f5fbf",
                "time_zone": "Europe/London",
                "bank_holiday_nation": "england_wales",
                "country": "GB",
                "send_from": "09:00",
                "send_until": "17:30",
                "logo": SimpleUploadedFile(filename, content, content_type="image/png"),
            },
        )

    def stored(self) -> bytes:
        name = Practice.objects.get(pk=self.practice.pk).logo.name
        self.assertTrue(name)
        with default_storage.open(name, "rb") as fh:
            return fh.read()

    def served(self) -> bytes:
        self.client.logout()
        r = self.client.get(reverse("sodium:practice-logo", args=[self.practice.slug]))
        self.assertEqual(r.status_code, 200)
        return b"".join(r.streaming_content)

    def test_a_png_html_polyglot_is_stored_as_pixels_only(self) -> None:
        polyglot = png() + HTML_PAGE
        self.assertEqual(Image.open(io.BytesIO(polyglot)).format, "PNG")  # a valid PNG too
        self.assertRedirects(self.post(polyglot), URL)
        stored = self.stored()
        self.assertNotIn(b"<html", stored)
        self.assertNotIn(b"<script", stored)
        served = self.served()
        self.assertNotIn(b"<script", served)
        with Image.open(io.BytesIO(served)) as image:
            self.assertEqual((image.format, image.size, image.mode), ("PNG", (6, 4), "RGBA"))
            self.assertEqual(image.getpixel((0, 0)), (200, 30, 30, 128))  # transparency kept

    def test_metadata_is_stripped_from_a_png(self) -> None:
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "<script>alert(1)</script>")
        info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>secret author</x:xmpmeta>")
        self.post(png(pnginfo=info))
        stored = self.stored()
        self.assertNotIn(b"secret author", stored)
        self.assertNotIn(b"<script", stored)
        self.assertEqual(Image.open(io.BytesIO(stored)).text, {})

    def test_a_jpeg_stays_a_jpeg_without_its_exif_or_comment(self) -> None:
        exif = Image.Exif()
        exif[0x010E] = "Taken at 1 Secret Lane"  # ImageDescription
        exif[0x0112] = 6  # rotated: the stored logo is turned upright instead
        buf = io.BytesIO()
        Image.new("RGB", (8, 4), (30, 95, 191)).save(
            buf, "JPEG", exif=exif, comment=b"<script>alert(1)</script>"
        )
        self.post(buf.getvalue(), filename="logo.jpg")
        stored = self.stored()
        self.assertNotIn(b"Secret Lane", stored)
        self.assertNotIn(b"<script", stored)
        with Image.open(io.BytesIO(stored)) as image:
            self.assertEqual(image.format, "JPEG")
            self.assertEqual(image.size, (4, 8))
            self.assertFalse(image.getexif())
        self.assertRegex(Practice.objects.get(pk=self.practice.pk).logo.name, r"\.jpg$")

    def test_an_animation_is_flattened_to_its_first_frame(self) -> None:
        frames = [Image.new("RGBA", (5, 5), c) for c in ((255, 0, 0, 255), (0, 255, 0, 255))]
        buf = io.BytesIO()
        frames[0].save(buf, "PNG", save_all=True, append_images=frames[1:])
        self.assertEqual(Image.open(io.BytesIO(buf.getvalue())).n_frames, 2)
        self.post(buf.getvalue())
        with Image.open(io.BytesIO(self.stored())) as image:
            self.assertEqual(getattr(image, "n_frames", 1), 1)
            self.assertEqual(image.getpixel((0, 0)), (255, 0, 0, 255))

    def test_a_webp_stays_a_webp(self) -> None:
        buf = io.BytesIO()
        Image.new("RGB", (6, 6), (10, 120, 60)).save(buf, "WEBP")
        self.post(buf.getvalue(), filename="logo.webp")
        self.assertEqual(Image.open(io.BytesIO(self.stored())).format, "WEBP")

    def test_it_refuses_a_logo_with_too_many_pixels_before_decoding_it(self) -> None:
        for width, height in ((4001, 10), (30_000, 30_000)):
            with self.subTest(size=(width, height)):
                r = self.post(png_claiming(width, height))
                self.assertEqual(r.status_code, 200)
                self.assertFormError(
                    r.context["form"],
                    "logo",
                    "The logo is too large: use one at most 4000 pixels wide and high.",
                )
                self.assertEqual(Practice.objects.get(pk=self.practice.pk).logo.name, "")
