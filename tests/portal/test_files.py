"""Hardened uploads: content-sniffed allow-list, size limit, random storage names; and the
request-size limit in front of the approval page."""

from __future__ import annotations

import hashlib
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from portal import files
from portal.models import Approval, ApprovalVersion, Document
from tests import factories as f
from tests.base import BaseTestCase
from tests.portal.staff_helpers import (
    PDF,
    PortalStaffTestCase,
    approval_step,
    docx_bytes,
    pdf,
    png_bytes,
    stored_files,
)


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


class CheckUploadTests(BaseTestCase):
    def assertRefused(self, name: str, data: bytes, words: str) -> None:  # noqa: N802
        with self.assertRaises(files.UploadRejected) as caught:
            files.check_upload(upload(name, data))
        self.assertIn(words, str(caught.exception))

    def test_it_accepts_a_real_pdf(self) -> None:
        self.assertEqual(files.check_upload(pdf("a.pdf")), ("pdf", "application/pdf"))

    def test_it_accepts_a_real_png(self) -> None:
        self.assertEqual(files.check_upload(upload("p.PNG", png_bytes())), ("png", "image/png"))

    def test_it_accepts_a_word_document(self) -> None:
        ext, content_type = files.check_upload(upload("letter.docx", docx_bytes()))
        self.assertEqual(ext, "docx")
        self.assertEqual(content_type, files.SERVED_AS["docx"])

    def test_it_accepts_csv_and_text(self) -> None:
        self.assertEqual(
            files.check_upload(upload("bank.csv", "date,amount\n2025-01-01,£12.50\n".encode())),
            ("csv", "text/csv"),
        )
        self.assertEqual(files.check_upload(upload("notes.txt", b"Hello")), ("txt", "text/plain"))

    def test_it_refuses_text_named_pdf(self) -> None:
        self.assertRefused("invoice.pdf", b"just some text", "its contents do not match its name")

    def test_it_refuses_a_program_named_png(self) -> None:
        elf = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200
        exe = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200
        self.assertRefused("photo.png", elf, "its contents do not match its name")
        self.assertRefused("photo.png", exe, "its contents do not match its name")

    def test_it_refuses_binary_named_csv(self) -> None:
        self.assertRefused("data.csv", b"MZ\x90\x00\x03\x00\x00", "does not contain text")

    def test_it_refuses_unknown_extensions(self) -> None:
        self.assertRefused("setup.exe", b"MZ\x90\x00", "this type of file is not accepted")
        self.assertRefused("archive.zip", docx_bytes(), "this type of file is not accepted")
        self.assertRefused("README", b"text", "this type of file is not accepted")

    def test_it_refuses_an_empty_file(self) -> None:
        self.assertRefused("empty.pdf", b"", "is empty")

    @override_settings(SODIUM_MAX_UPLOAD_BYTES=2 * 1024 * 1024)
    def test_it_refuses_an_oversized_file(self) -> None:
        big = PDF + b"0" * (2 * 1024 * 1024)
        self.assertRefused("big.pdf", big, "larger than 2.0\xa0MB")


class StoreTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(practice=self.practice)

    def test_it_stores_under_a_random_name_with_size_and_hash(self) -> None:
        data = png_bytes()
        first = files.store(
            upload("Passport scan.png", data),
            practice_id=self.practice.pk,
            client_id=self.acme.pk,
            user=self.staff,
        )
        second = files.store(
            upload("Passport scan.png", data),
            practice_id=self.practice.pk,
            client_id=self.acme.pk,
            user=self.staff,
        )
        for document in (first, second):
            stored = document.file.name.rsplit("/", 1)[-1]
            self.assertRegex(stored, r"^[0-9a-f]{32}\.png$")
            self.assertNotIn("Passport", document.file.name)
            self.assertEqual(document.original_name, "Passport scan.png")
            self.assertEqual(document.size, len(data))
            self.assertEqual(document.sha256, hashlib.sha256(data).hexdigest())
            self.assertEqual(document.content_type, "image/png")
            with document.file.open("rb") as fh:
                self.assertEqual(fh.read(), data)
        self.assertNotEqual(first.file.name, second.file.name)

    def test_it_keeps_only_the_last_part_of_a_path_like_name(self) -> None:
        document = files.store(
            upload("../../etc/report.pdf", PDF),
            practice_id=self.practice.pk,
            client_id=self.acme.pk,
        )
        self.assertEqual(document.original_name, "report.pdf")
        self.assertTrue(re.match(r"^documents/\d{4}/\d{2}/[0-9a-f]{32}\.pdf$", document.file.name))

    def test_a_refused_file_stores_nothing(self) -> None:
        before = stored_files()
        with self.assertRaises(files.UploadRejected):
            files.store(
                upload("x.pdf", b"not a pdf"), practice_id=self.practice.pk, client_id=self.acme.pk
            )
        self.assertFalse(Document.objects.exists())
        self.assertEqual(stored_files(), before)

    def test_a_batch_with_one_refused_file_stores_none_of_it(self) -> None:
        before = stored_files()
        batch = [upload("a.pdf", PDF), upload("b.pdf", b"not a pdf")]
        with self.assertRaises(files.UploadRejected):
            files.store_all(batch, practice_id=self.practice.pk, client_id=self.acme.pk)
        self.assertFalse(Document.objects.exists())
        self.assertEqual(stored_files(), before)  # a.pdf was checked, never written

    def test_a_batch_is_stored_in_order_with_the_same_fields(self) -> None:
        batch = [upload("a.pdf", PDF), upload("b.png", png_bytes())]
        documents = files.store_all(
            batch, practice_id=self.practice.pk, client_id=self.acme.pk, category="Client upload"
        )
        self.assertEqual([d.original_name for d in documents], ["a.pdf", "b.png"])
        self.assertEqual({d.category for d in documents}, {"Client upload"})

    def test_a_failing_block_removes_the_row_and_the_stored_bytes(self) -> None:
        before = stored_files()
        with self.assertRaises(RuntimeError):
            with files.atomic_with_upload(
                upload("a.pdf", PDF), practice_id=self.practice.pk, client_id=self.acme.pk
            ) as stored:
                self.assertTrue(Document.objects.filter(pk=stored.pk).exists())
                self.assertEqual(len(stored_files() - before), 1)  # written by now
                raise RuntimeError("the send was refused")
        self.assertFalse(Document.objects.exists())
        self.assertEqual(stored_files(), before)

    def test_a_block_that_succeeds_keeps_the_upload_and_none_stores_nothing(self) -> None:
        with files.atomic_with_upload(
            upload("a.pdf", PDF), practice_id=self.practice.pk, client_id=self.acme.pk
        ) as stored:
            pass
        self.assertTrue(Document.objects.filter(pk=stored.pk).exists())
        with stored.file.open("rb") as fh:
            self.assertEqual(fh.read(), PDF)
        with files.atomic_with_upload(None, practice_id=self.practice.pk) as nothing:
            self.assertIsNone(nothing)
        self.assertEqual(Document.objects.count(), 1)


@override_settings(SODIUM_MAX_UPLOAD_BYTES=4096)
class RequestSizeLimitTests(PortalStaffTestCase):
    def test_an_oversized_upload_gets_a_readable_413_page_and_stores_nothing(self) -> None:
        (step,) = self.attach((approval_step(), []))
        self.client.force_login(self.staff)
        before = stored_files()
        r = self.client.post(
            f"/documents/steps/{step.pk}/approval/",
            {
                "file": pdf("huge.pdf", PDF + b"0" * 10_000),
                "title": "Draft accounts",
                "category": "Accounts",
            },
        )
        self.assertEqual(r.status_code, 413)
        self.assertContains(r, "That file is too large", status_code=413)
        self.assertFalse(Document.objects.exists())
        self.assertFalse(Approval.objects.exists())
        self.assertFalse(ApprovalVersion.objects.exists())
        self.assertEqual(stored_files(), before)
        step.refresh_from_db()
        self.assertEqual(step.status, "ready")
