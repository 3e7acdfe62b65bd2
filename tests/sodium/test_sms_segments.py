"""SMS segment counting: GSM-7 vs UCS-2, extension characters, multipart boundaries."""

from __future__ import annotations

from django.test import SimpleTestCase

from sodium.sms.segments import GSM7, UCS2, count_segments


class CountSegmentsTests(SimpleTestCase):
    def check(self, text: str, characters: int, segments: int, encoding: str) -> None:
        result = count_segments(text)
        self.assertEqual(
            (result.characters, result.segments, result.encoding),
            (characters, segments, encoding),
        )

    def test_empty_text_is_no_segment(self) -> None:
        self.check("", 0, 0, GSM7)

    def test_plain_gsm_text_fits_160_in_one(self) -> None:
        self.check("a" * 160, 160, 1, GSM7)

    def test_161_gsm_characters_take_two_parts_of_153(self) -> None:
        self.check("a" * 161, 161, 2, GSM7)
        self.check("a" * 306, 306, 2, GSM7)
        self.check("a" * 307, 307, 3, GSM7)

    def test_gsm_accents_and_pound_are_single_septets(self) -> None:
        self.check("Café £5 à Ñ", 11, 1, GSM7)

    def test_extension_characters_count_twice(self) -> None:
        self.check("€", 2, 1, GSM7)
        self.check("[x]{y}~|^\\", 18, 1, GSM7)  # 8 extension characters, 2 plain
        # 159 plain + one euro = 161 septets: two segments.
        self.check("a" * 159 + "€", 161, 2, GSM7)

    def test_a_character_outside_gsm_makes_the_whole_text_unicode(self) -> None:
        self.check("a" * 69 + "ç", 70, 1, UCS2)  # ç is not GSM (only Ç is)
        self.check("a" * 70 + "ç", 71, 2, UCS2)

    def test_ucs2_parts_hold_67(self) -> None:
        self.check("ç" * 134, 134, 2, UCS2)
        self.check("ç" * 135, 135, 3, UCS2)

    def test_an_emoji_counts_two_utf16_units(self) -> None:
        self.check("Thanks 👍", 9, 1, UCS2)
        self.check("👍" * 35, 70, 1, UCS2)
        self.check("👍" * 36, 72, 2, UCS2)

    def test_the_label_reads_like_the_editor(self) -> None:
        self.assertEqual(count_segments("Hi").label, "2 characters · 1 segment (GSM-7)")
        self.assertEqual(count_segments("😀").label, "2 characters · 1 segment (Unicode)")
