"""A printed document on one A4 page: the title, the labelled fields in the form's order, and the QR code of its
verification address beside that address in plain text (a reader without a camera can type it).

The fonts are the TTFs `intake.documents.fonts` registered at start, embedded (subset) so every Kazakh letter prints
and extracts as itself. The QR is a raster image (segno) so it prints sharp at any size; `invariant` keeps the
bytes of the same document the same (no creation time inside).
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

import segno
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from intake.documents import fonts
from intake.documents.layout import PrintedDocument

QR_SIZE = 38 * mm
# Eight pixels a module: a 33-module code (version 4, level M) is 264 px before the quiet zone, plenty for a
# phone's camera and for a decoder reading the image back out of the PDF.
QR_SCALE = 8
_TEXT = ParagraphStyle("text", fontName=fonts.REGULAR, fontSize=10, leading=13)
_LABEL = ParagraphStyle("label", parent=_TEXT, fontName=fonts.BOLD)
_TITLE = ParagraphStyle("title", parent=_TEXT, fontName=fonts.BOLD, fontSize=15, leading=19, alignment=1)
_SMALL = ParagraphStyle("small", parent=_TEXT, fontSize=8, leading=10)


def _qr_png(url: str) -> io.BytesIO:
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=QR_SCALE, border=4)
    out.seek(0)
    return out


def _value(value: str | list[str]) -> Paragraph:
    if isinstance(value, list):
        text = "<br/>".join(f"{i}. {escape(v)}" for i, v in enumerate(value, 1))
    else:
        text = escape(value)
    return Paragraph(text, _TEXT)


def render(doc: PrintedDocument) -> bytes:
    """The PDF's bytes. The fonts must have been loaded (`fonts.load`, at the service's start)."""
    if not fonts.loaded():
        raise RuntimeError("the document fonts were not loaded at start (intake.documents.fonts.load)")
    out = io.BytesIO()
    page = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{doc.title} № {doc.number}",
        author="Bir Tereze",
        lang=doc.lang,
        invariant=1,
        # Otherwise the canvas starts in Helvetica, a font the reader must have and that lacks Kazakh.
        initialFontName=fonts.REGULAR,
    )
    rows = [[Paragraph(escape(line.label), _LABEL), _value(line.value)] for line in doc.lines]
    fields = Table(rows, colWidths=[62 * mm, page.width - 62 * mm])
    fields.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), fonts.REGULAR),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.grey),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    qr = Image(_qr_png(doc.verify_url), width=QR_SIZE, height=QR_SIZE)
    verify = Table(
        [
            [
                qr,
                [
                    Paragraph(escape(doc.verify_label), _LABEL),
                    Paragraph(escape(doc.verify_url), _SMALL),
                ],
            ]
        ],
        colWidths=[QR_SIZE + 6 * mm, page.width - QR_SIZE - 6 * mm],
    )
    verify.setStyle(
        TableStyle([("FONTNAME", (0, 0), (-1, -1), fonts.REGULAR), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")])
    )
    page.build([Paragraph(escape(doc.title), _TITLE), Spacer(1, 8 * mm), fields, Spacer(1, 10 * mm), verify])
    return out.getvalue()
