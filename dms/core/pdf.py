"""One font for every PDF the apps print: DejaVu Sans, shipped with the project (Cyrillic included)."""

from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR, BOLD = "DMSSans", "DMSSans-Bold"


@cache
def pdf_fonts() -> tuple[str, str]:
    """Register the shipped fonts once and return (regular, bold) font names for reportlab."""
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    return REGULAR, BOLD
