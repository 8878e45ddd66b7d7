"""Printable A4 QR posters: one PNG per venue (or per table) and all of them in one PDF.

A poster is bilingual by design (bokmål and English side by side), so its text is written here
rather than taken from the web catalogs, which choose one language per request. Who keeps the
data (MUNICIPALITY_NAME) and for how long (RETENTION_DAYS) come from the configuration.
"""
from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from .validation import InvalidInput, clean_area

# A4 at 300 dpi.
DPI = 300
WIDTH, HEIGHT = 2480, 3508
MARGIN = 170
INK = 0
PAPER = 255
# Error correction M survives about 15 % of the code being dirty or torn; the quiet zone of
# 4 modules is what the QR standard asks for so that readers find the code on a busy wall.
QR_ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
QR_QUIET_ZONE = 4
QR_MAX_SIZE = 1500
MAX_AREAS = 300
FONT_FILES = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf", "mono": "DejaVuSansMono.ttf"}
PDF_NAME = "posters.pdf"


class PosterError(Exception):
    """A poster cannot be made (missing font, bad area list); the message says what to do."""


@dataclass(frozen=True)
class Poster:
    slug: str
    venue_name: str
    url: str
    area: str | None = None


def checkin_url(public_url: str, slug: str, area: str | None = None) -> str:
    """The check-in URL printed on a poster: always from PUBLIC_URL, never from a request."""
    url = f"{public_url.rstrip('/')}/v/{slug}"
    if area is not None:
        url += "?" + urllib.parse.urlencode({"area": area})
    return url


def parse_areas(spec: str) -> list[str]:
    """Tables or areas from `1-12`, `1,2,Bar` or a mix (`1-4,Terrasse`), checked like the form's field."""
    areas: list[str] = []
    for part in (piece.strip() for piece in spec.split(",")):
        if not part:
            continue
        numbers = re.fullmatch(r"(\d{1,4})\s*-\s*(\d{1,4})", part)
        if numbers:
            first, last = int(numbers.group(1)), int(numbers.group(2))
            if first > last:
                raise PosterError(f"area range {part!r} runs backwards")
            if last - first + 1 > MAX_AREAS:
                raise PosterError(f"area range {part!r} is longer than {MAX_AREAS}")
            candidates = [str(n) for n in range(first, last + 1)]
        else:
            candidates = [part]
        for candidate in candidates:
            try:
                area = clean_area(candidate)
            except InvalidInput:
                raise PosterError(f"area {candidate!r} refused: up to 40 letters, digits, spaces and - . /")\
                    from None
            if area is not None and area not in areas:
                areas.append(area)
    if not areas:
        raise PosterError("--areas names no table or area")
    if len(areas) > MAX_AREAS:
        raise PosterError(f"at most {MAX_AREAS} areas per venue")
    return areas


def load_fonts(font_dir: Path) -> dict[str, Path]:
    """The DejaVu font files (they have æ, ø and å); a PosterError says how to install them."""
    paths = {style: Path(font_dir) / name for style, name in FONT_FILES.items()}
    missing = [str(path) for path in paths.values() if not path.is_file()]
    if missing:
        raise PosterError(f"font not found: {', '.join(missing)}. Install the Debian package "
                          "fonts-dejavu-core (sudo apt-get install fonts-dejavu-core) or set "
                          "POSTER_FONT_DIR to a folder holding the DejaVu fonts.")
    return paths


def qr_image(url: str, size_limit: int) -> Image.Image:
    """The QR code of url, scaled by a whole number of pixels per module, with a 4-module quiet zone."""
    code = qrcode.QRCode(error_correction=QR_ERROR_CORRECTION, border=QR_QUIET_ZONE, box_size=1)
    code.add_data(url)
    code.make(fit=True)
    modules = code.modules_count + 2 * QR_QUIET_ZONE
    scale = max(1, size_limit // modules)
    small = code.make_image(fill_color="black", back_color="white").get_image().convert("L")
    return small.resize((modules * scale, modules * scale), Image.Resampling.NEAREST)


class _Page:
    """Drawing helpers for one poster page."""

    def __init__(self, fonts: dict[str, Path]) -> None:
        self.fonts = fonts
        self.image = Image.new("L", (WIDTH, HEIGHT), PAPER)
        self.draw = ImageDraw.Draw(self.image)

    def font(self, style: str, size: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(self.fonts[style]), size)

    def wrap(self, text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
        lines: list[str] = []
        for word in text.split():
            if lines and self.draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
                lines[-1] += f" {word}"
            else:
                lines.append(word)
        return lines

    def fitting_font(self, text: str, style: str, largest: int, smallest: int, max_lines: int,
                     width: int) -> tuple[ImageFont.FreeTypeFont, list[str]]:
        """The largest font size at which text fits in max_lines lines of width."""
        size = largest
        while True:
            font = self.font(style, size)
            lines = self.wrap(text, font, width)
            fits = len(lines) <= max_lines and all(self.draw.textlength(line, font=font) <= width
                                                    for line in lines)
            if fits or size <= smallest:
                return font, lines
            size -= 6

    def centred(self, lines: Iterable[str], font: ImageFont.FreeTypeFont, top: int,
                spacing: float = 1.2) -> int:
        """Draw lines centred from top; return the y below them."""
        line_height = int(font.size * spacing)
        for line in lines:
            self.draw.text((WIDTH // 2, top), line, font=font, fill=INK, anchor="mt")
            top += line_height
        return top


def days(count: int) -> tuple[str, str]:
    """A number of days in bokmål and English: ("1 dag", "1 day"), ("10 dager", "10 days")."""
    return (f"{count} dag", f"{count} day") if count == 1 else (f"{count} dager", f"{count} days")


def draw_poster(poster: Poster, fonts: dict[str, Path], retention_days: int, municipality: str) -> Image.Image:
    """One A4 page: who, where, the code, the URL, how, why, and who keeps the data."""
    page = _Page(fonts)
    draw = page.draw
    text_width = WIDTH - 2 * MARGIN

    # Top: the municipality, then the call to action in both languages.
    y = MARGIN
    draw.text((MARGIN, y), municipality, font=page.font("bold", 70), fill=INK)
    y += 110
    draw.rectangle((MARGIN, y, WIDTH - MARGIN, y + 10), fill=INK)
    y += 70
    y = page.centred(["Registrer besøket ditt"], page.font("bold", 120), y)
    y = page.centred(["Register your visit"], page.font("regular", 90), y)
    y += 50
    name_font, name_lines = page.fitting_font(poster.venue_name, "bold", 190, 80, 2, text_width)
    y = page.centred(name_lines, name_font, y, spacing=1.15)
    if poster.area is not None:
        y += 10
        area_font, area_lines = page.fitting_font(f"Bord / Table: {poster.area}", "bold", 140, 70, 1,
                                                  text_width)
        y = page.centred(area_lines, area_font, y)

    # Bottom, from the foot of the page up: privacy, instructions, then the URL under the code.
    small = page.font("regular", 46)
    kept_nb, kept_en = days(retention_days)
    privacy = [
        f"Opplysningene brukes bare til smittesporing og slettes etter {kept_nb}.",
        f"Your details are used only for contact tracing and are deleted after {kept_en}.",
    ]
    privacy_lines = [line for text in privacy for line in page.wrap(text, small, text_width)]
    instructions = [
        ("Slik gjør du:", "Skann koden med kameraet på mobilen, skriv navn og telefonnummer, "
                          "kryss av for samtykke og trykk «Registrer meg»."),
        ("How to:", "Scan the code with your phone's camera, enter your name and phone number, "
                    "tick the consent box and tap “Check in”."),
    ]
    body = page.font("regular", 56)
    body_bold = page.font("bold", 56)
    instruction_lines = [page.wrap(f"{label} {text}", body, text_width) for label, text in instructions]

    bottom = HEIGHT - MARGIN
    footer_font = page.font("bold", 60)
    bottom -= int(footer_font.size * 1.2)
    draw.text((WIDTH // 2, bottom), f"{municipality} · smittesporing", font=footer_font, fill=INK, anchor="mt")
    bottom -= 30
    bottom -= int(small.size * 1.25) * len(privacy_lines)
    page.centred(privacy_lines, small, bottom, spacing=1.25)
    bottom -= 50
    for lines, (label, _text) in zip(reversed(instruction_lines), reversed(instructions)):
        bottom -= int(body.size * 1.25) * len(lines) + 25
        line_y = bottom
        for index, line in enumerate(lines):
            if index == 0:
                # The label in bold, the rest of the first line in regular weight.
                draw.text((MARGIN, line_y), label, font=body_bold, fill=INK)
                rest = line[len(label):]
                draw.text((MARGIN + draw.textlength(label, font=body_bold), line_y), rest, font=body, fill=INK)
            else:
                draw.text((MARGIN, line_y), line, font=body, fill=INK)
            line_y += int(body.size * 1.25)
    bottom -= 40
    url_font, url_lines = page.fitting_font(poster.url, "mono", 64, 30, 1, text_width)
    bottom -= int(url_font.size * 1.3)
    page.centred(url_lines, url_font, bottom)

    # The code takes the space that is left between the two parts.
    space = bottom - 20 - (y + 30)
    code = qr_image(poster.url, min(QR_MAX_SIZE, space))
    top = y + 30 + (space - code.height) // 2
    page.image.paste(code, ((WIDTH - code.width) // 2, top))
    return page.image


def posters_for(venues: Sequence, public_url: str, areas: Sequence[str] | None) -> list[Poster]:
    """One poster per venue, or with areas one per venue and area."""
    posters = []
    for venue in venues:
        if areas:
            posters.extend(Poster(venue["slug"], venue["name"], checkin_url(public_url, venue["slug"], area),
                                  area) for area in areas)
        else:
            posters.append(Poster(venue["slug"], venue["name"], checkin_url(public_url, venue["slug"])))
    return posters


def _file_name(poster: Poster, taken: set[str]) -> str:
    stem = poster.slug
    if poster.area is not None:
        stem += "-" + (re.sub(r"[^\w]+", "-", poster.area.lower()).strip("-") or "area")
    name, number = f"{stem}.png", 2
    while name in taken:
        name, number = f"{stem}-{number}.png", number + 1
    taken.add(name)
    return name


def write_posters(posters: Sequence[Poster], out_dir: Path, font_dir: Path,
                  retention_days: int, municipality: str) -> tuple[list[Path], Path]:
    """Write each poster as a 300 dpi PNG, and all of them as pages of one PDF; return the paths."""
    if not posters:
        raise PosterError("no venues to print")
    fonts = load_fonts(font_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf = out_dir / PDF_NAME
    pngs: list[Path] = []
    taken: set[str] = set()
    for index, poster in enumerate(posters):
        image = draw_poster(poster, fonts, retention_days, municipality)
        png = out_dir / _file_name(poster, taken)
        image.save(png, dpi=(DPI, DPI))
        # One page at a time, so a hundred posters never sit in memory together.
        image.save(pdf, resolution=float(DPI), append=index > 0, quality=92)
        pngs.append(png)
    return pngs, pdf
