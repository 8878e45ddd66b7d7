"""`flask venues import`: many venues from a CSV, refused rows reported, nothing added twice."""
from __future__ import annotations

from pathlib import Path

CSV = (
    "slug;name;address\n"
    "kaffestuggu;Kaffestuggu;Bergmannsgata 18\n"
    "Bad Slug;Bad;Somewhere\n"
    "vertshuset;Vertshuset Røros;Kjerkgata 34\n"
    "kaffestuggu;Kaffestuggu again;Bergmannsgata 18\n"
    f"langt;{'x' * 121};\n"
    "tomt;;\n"
    "\n"
    "mange;Mange;kolonner;her\n"
)


def write(tmp_path: Path, text: str, encoding: str = "utf-8-sig") -> str:
    path = tmp_path / "venues.csv"
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_import_adds_good_rows_and_reports_each_refused_row(runner, conn, tmp_path):
    result = runner.invoke(args=["venues", "import", write(tmp_path, CSV)])
    assert result.exit_code == 0, result.output
    assert "line 3: refused: slug 'Bad Slug' refused" in result.output
    assert "line 5: already there: kaffestuggu" in result.output
    assert "line 6: refused: the venue name must be 1 to 120 characters" in result.output
    assert "line 7: refused: the venue name must be 1 to 120 characters" in result.output
    assert "line 9: refused: 4 columns, the header has 3" in result.output
    assert "Added 2 venues, 1 already there, refused 4 rows." in result.output
    rows = conn.execute("SELECT slug, name, address FROM venues ORDER BY slug").fetchall()
    assert [tuple(row) for row in rows] == [("kaffestuggu", "Kaffestuggu", "Bergmannsgata 18"),
                                           ("vertshuset", "Vertshuset Røros", "Kjerkgata 34")]


def test_import_twice_adds_nothing_twice(runner, conn, tmp_path):
    path = write(tmp_path, CSV)
    runner.invoke(args=["venues", "import", path])
    result = runner.invoke(args=["venues", "import", path])
    assert result.exit_code == 0
    assert "Added 0 venues, 3 already there, refused 4 rows." in result.output
    for line, slug in ((2, "kaffestuggu"), (4, "vertshuset"), (5, "kaffestuggu")):
        assert f"line {line}: already there: {slug}\n" in result.output
    assert "already exists" not in result.output
    assert conn.execute("SELECT count(*) FROM venues").fetchone()[0] == 2


def test_import_reads_comma_separated_utf8_without_bom(runner, conn, tmp_path):
    text = 'slug,name,address\nbakeriet,"Bakeriet, Røros",Peder Hiortgata 1\n'
    result = runner.invoke(args=["venues", "import", write(tmp_path, text, "utf-8")])
    assert "Added 1 venues, 0 already there, refused 0 rows." in result.output
    assert conn.execute("SELECT name FROM venues").fetchone()[0] == "Bakeriet, Røros"


def test_import_refuses_a_file_that_is_not_utf8(runner, conn, tmp_path):
    result = runner.invoke(args=["venues", "import", write(tmp_path, "slug;name\nkafe;Kafé Ås\n", "latin-1")])
    assert result.exit_code == 1 and "not UTF-8" in result.output
    assert conn.execute("SELECT count(*) FROM venues").fetchone()[0] == 0


def test_import_needs_a_header_row(runner, tmp_path):
    result = runner.invoke(args=["venues", "import", write(tmp_path, "kafe;Kafé;Gata 1\n")])
    assert result.exit_code == 1 and "slug, name, address" in result.output


def test_standby_start_page_and_venue_page_say_registration_is_not_in_use(runner, client, venue, conn):
    assert "(1 changed)" in runner.invoke(args=["venues", "deactivate", "--all"]).output
    start = client.get("/").get_data(as_text=True)
    assert "Registrering av gjester er ikke i bruk noe sted nå." in start
    page = client.get("/v/kaffestuggu")
    assert page.status_code == 200
    assert "Du trenger ikke å registrere deg" in page.get_data(as_text=True)
    assert 'name="phone"' not in page.get_data(as_text=True)
    english = client.get("/v/kaffestuggu", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "not in use here right now. You do not need to register." in english
    runner.invoke(args=["venues", "activate", "--all"])
    assert 'name="phone"' in client.get("/v/kaffestuggu").get_data(as_text=True)
