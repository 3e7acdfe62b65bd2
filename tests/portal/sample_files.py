"""Real files built in memory for upload tests: minimal genuine ones and hostile look-alikes."""

from __future__ import annotations

import io
import zipfile

from PIL import Image

_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_OFFICE = "application/vnd.openxmlformats-officedocument"
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="{part}"/></Relationships>'
)
# The main part of each type and the content type [Content_Types].xml gives it.
MAIN_PARTS = {
    "docx": ("word/document.xml", f"{_OFFICE}.wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", f"{_OFFICE}.spreadsheetml.sheet.main+xml"),
}
_BODIES = {
    "docx": '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/'
    'main"><w:body><w:p><w:r><w:t>Engagement letter</w:t></w:r></w:p></w:body></w:document>',
    "xlsx": '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheets><sheet name="Sheet1" sheetId="1"/></sheets></workbook>',
}


def zip_bytes(members: dict[str, bytes | str], *, stored: bool = False) -> bytes:
    buf = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def office_members(ext: str, *, main_type: str | None = None) -> dict[str, str]:
    """Return the members of a minimal Word or Excel file that Office opens."""
    part, content_type = MAIN_PARTS[ext]
    types = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="{_CT}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{part}" ContentType="{main_type or content_type}"/></Types>'
    )
    return {
        "[Content_Types].xml": types,
        "_rels/.rels": _RELS.format(part=part),
        part: '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + _BODIES[ext],
    }


def office_bytes(ext: str, **kwargs) -> bytes:
    return zip_bytes(office_members(ext, **kwargs))


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (4, 3), **save) -> bytes:
    buf = io.BytesIO()
    mode = "RGBA" if fmt == "PNG" else "RGB"
    Image.new(mode, size, (200, 30, 30, 255) if mode == "RGBA" else (200, 30, 30)).save(
        buf, fmt, **save
    )
    return buf.getvalue()


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
HTML_PAGE = b"<html><body><script>fetch('/settings/members/').then(r=>r.text())</script></html>"
