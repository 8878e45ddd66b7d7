"""`flask venues qr`: printable A4 posters whose codes decode to exactly the configured URL."""
from __future__ import annotations

from pathlib import Path

from conftest import add_venue
from PIL import Image, ImageChops, ImageDraw, PdfParser
from pyzbar.pyzbar import decode

from roros_checkin import create_app, posters

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def decoded(png: Path) -> list[str]:
    with Image.open(png) as image:
        return [symbol.data.decode() for symbol in decode(image)]


def pdf_pages(path: Path) -> list[list[float]]:
    """The MediaBox of each page, in points."""
    parser = PdfParser.PdfParser(str(path))
    try:
        return [list(parser.read_indirect(page)[b"MediaBox"]) for page in parser.pages]
    finally:
        parser.close()


def test_poster_is_a4_at_300_dpi_and_decodes_to_the_public_url(app, runner, venue, tmp_path):
    result = runner.invoke(args=["venues", "qr", "kaffestuggu", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    png = tmp_path / "out" / "kaffestuggu.png"
    with Image.open(png) as image:
        assert image.size == (2480, 3508)
        assert round(image.info["dpi"][0]) == 300
    assert decoded(png) == ["https://checkin.example.test/v/kaffestuggu"]


def test_area_posters_decode_to_urls_that_fill_in_the_table(app, runner, client, venue, tmp_path):
    result = runner.invoke(args=["venues", "qr", "--out", str(tmp_path), "--areas", "1-3,Terrasse"])
    assert result.exit_code == 0, result.output
    assert decoded(tmp_path / "kaffestuggu-2.png") == ["https://checkin.example.test/v/kaffestuggu?area=2"]
    assert decoded(tmp_path / "kaffestuggu-terrasse.png") == [
        "https://checkin.example.test/v/kaffestuggu?area=Terrasse"]
    form = client.get("/v/kaffestuggu?area=2").get_data(as_text=True)
    assert 'name="area"' in form and 'value="2"' in form


def test_pdf_has_one_a4_page_per_poster(app, runner, venue, tmp_path):
    add_venue(app, "bakeriet", "Bakeriet")
    result = runner.invoke(args=["venues", "qr", "--out", str(tmp_path), "--areas", "1,2,3"])
    assert result.exit_code == 0, result.output
    assert "6 pages" in result.output
    # A4 is 210 × 297 mm = 595.3 × 841.9 points.
    assert pdf_pages(tmp_path / "posters.pdf") == [[0, 0, 595.2, 841.92]] * 6
    plain = runner.invoke(args=["venues", "qr", "--out", str(tmp_path)])
    assert len(pdf_pages(tmp_path / "posters.pdf")) == 2, plain.output


def test_without_slugs_every_open_venue_and_no_closed_one(app, runner, venue, tmp_path):
    add_venue(app, "stengt", "Stengt kafé", active=False)
    assert runner.invoke(args=["venues", "qr", "--out", str(tmp_path)]).exit_code == 0
    assert sorted(path.name for path in tmp_path.glob("*.png")) == ["kaffestuggu.png"]


def test_unknown_slug_is_refused(app, runner, venue, tmp_path):
    result = runner.invoke(args=["venues", "qr", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "no venue with slug 'nope'" in result.output


def test_bad_area_list_is_refused(app, runner, venue, tmp_path):
    for spec in ("5-1", "=cmd", "1-1000"):
        result = runner.invoke(args=["venues", "qr", "--out", str(tmp_path), "--areas", spec])
        assert result.exit_code == 1, spec
    assert not list(tmp_path.glob("*.png"))


def test_missing_font_fails_with_the_package_to_install(app, runner, venue, tmp_path):
    app.config["POSTER_FONT_DIR"] = str(tmp_path / "no-fonts")
    result = runner.invoke(args=["venues", "qr", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "fonts-dejavu-core" in result.output
    assert not (tmp_path / "out" / "kaffestuggu.png").exists()


def test_quiet_zone_is_four_white_modules():
    code = posters.qr_image("https://checkin.example.test/v/kaffestuggu", 1000)
    pixels = code.load()
    # Along the first row with ink: white up to the top-left finder pattern, which is 7 modules of black.
    row = next(y for y in range(code.height) if any(pixels[x, y] == 0 for x in range(code.width)))
    first = next(x for x in range(code.width) if pixels[x, row] == 0)
    run = next(x for x in range(first, code.width) if pixels[x, row] == 255) - first
    module = run // 7
    assert run == 7 * module and module >= 1
    assert first == row == 4 * module
    size = code.width
    for box in ((0, 0, size, first), (0, 0, first, size), (size - first, 0, size, size), (0, size - first, size, size)):
        assert code.crop(box).getextrema() == (255, 255)


def test_norwegian_letters_are_drawn_with_dejavu_glyphs():
    """What this proves: the poster font is DejaVu Sans, it has real glyphs for æøåÆØÅ (not the
    empty-box glyph it draws for characters it lacks), and a venue name with them changes the page."""
    fonts = posters.load_fonts(FONT_DIR)
    page = posters._Page(fonts)
    bold = page.font("bold", 190)
    assert bold.getname() == ("DejaVu Sans", "Bold")

    def glyph(character: str) -> bytes:
        image = Image.new("L", (300, 300), 0)
        ImageDraw.Draw(image).text((50, 20), character, font=bold, fill=255)
        return image.tobytes()

    missing_glyph = glyph("\U000E0FFF")
    assert glyph("a") != missing_glyph
    for letter in "æøåÆØÅ":
        assert glyph(letter) != missing_glyph, letter
    with_letters = posters.draw_poster(posters.Poster("x", "Ærlige Øl på Åsen", "https://h.test/v/x"), fonts, 14, "Røros kommune")
    plain = posters.draw_poster(posters.Poster("x", "Aerlige Ol pa Asen", "https://h.test/v/x"), fonts, 14, "Røros kommune")
    # The name band (below the heading, above the code) differs; the rest of the page does not.
    difference = ImageChops.difference(with_letters, plain).getbbox()
    assert difference is not None
    assert 500 < difference[1] and difference[3] < 1100


def test_qr_refuses_without_public_url_naming_it(app, venue, app_config, tmp_path):
    app = create_app({**app_config, "PUBLIC_URL": ""})  # the same database, with its venue
    result = app.test_cli_runner().invoke(args=["venues", "qr", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: PUBLIC_URL is not set") and result.output.count("\n") == 1
    assert not (tmp_path / "out").exists()
