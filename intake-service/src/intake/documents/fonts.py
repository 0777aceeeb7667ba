"""The TrueType fonts every PDF embeds: Cyrillic and the Kazakh letters ә ғ қ ң ө ұ ү һ і, which none of the PDF
standard fonts carries. Loaded once when the service starts, so a machine without them fails at start with the
path it looked at, not at the first receipt an operator prints."""

from __future__ import annotations

from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

REGULAR = "BtSans"
BOLD = "BtSans-Bold"
# Every letter a Kazakh text may need that Russian does not (the font is checked to have them).
KAZAKH_LETTERS = "әғқңөұүһіӘҒҚҢӨҰҮҺІ"


class FontMissing(RuntimeError):
    """The configured font is absent or unusable: the service does not start."""


def load(regular: str, bold: str) -> None:
    """Register both fonts with reportlab; raise FontMissing naming the file and the setting otherwise."""
    for name, path, setting in (
        (REGULAR, regular, "BT_DOCUMENT_FONT"),
        (BOLD, bold, "BT_DOCUMENT_FONT_BOLD"),
    ):
        if not Path(path).is_file():
            raise FontMissing(
                f"{setting}: no font file at {path} (install Debian's fonts-dejavu-core: `make system`, "
                "or point the setting at a TrueType font with Cyrillic and Kazakh letters)"
            )
        try:
            font = TTFont(name, path)
        except TTFError as exc:
            raise FontMissing(f"{setting}: {path} is not a usable TrueType font: {exc}") from exc
        lacking = [c for c in KAZAKH_LETTERS if ord(c) not in font.face.charToGlyph]
        if lacking:
            raise FontMissing(f"{setting}: {path} has no glyph for {''.join(lacking)}")
        pdfmetrics.registerFont(font)


def loaded() -> bool:
    return REGULAR in pdfmetrics.getRegisteredFontNames() and BOLD in pdfmetrics.getRegisteredFontNames()
