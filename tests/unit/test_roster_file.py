"""Roster files as organisers send them: accepted whole, or refused with every reason."""

from __future__ import annotations

import io
import os
import random
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.i18n import use_locale
from bot.services.countries import fold_name
from bot.services.roster import MAX_FILE_BYTES, Column, RosterParseResult, RosterRow, parse_roster
from bot.services.roster import reading as roster_file
from bot.services.roster.columns import HEADERS, MAX_ROWS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

HEADER = "Full name,Gender,Country,Organisation,Position,Email,Preferred language,Phone"
AMINA = (
    "Amina Nakato,F,Uganda,Ministry of Trade,Senior Trade Officer,"
    "amina.nakato@mtic.go.ug,English,+256 772 410 118"
)
DILSHOD = (
    "Dilshod Rakhimov,M,Uzbekistan,Ministry of Investment,Head of Division,"
    "d.rakhimov@miit.uz,Russian,+998 90 123 4567"
)
KOFFI = (
    "Koffi Kouassi,M,Côte d'Ivoire,Ministère du Commerce,Sous-directeur,"
    "jb.kouassi@commerce.gouv.ci,Français,+225 07 08 09 10 11"
)


def csv_bytes(*lines: str, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    text = "\r\n".join(line.replace(",", delimiter) for line in lines) + "\r\n"
    return text.encode(encoding)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def reasons(result: RosterParseResult) -> list[str]:
    assert result.rows == []
    assert not result.ok
    return [error.reason for error in result.errors]


def parse_ok(data: bytes, filename: str = "roster.csv") -> list[RosterRow]:
    result = parse_roster(data, filename)
    assert result.errors == []
    assert result.ok
    return result.rows


@pytest.fixture(autouse=True)
def english():
    with use_locale("en"):
        yield


# --------------------------------------------------------------------------- the samples


def without_line(row: RosterRow) -> RosterRow:
    return replace(row, line=0)


def test_the_sample_csv_and_xlsx_give_the_same_forty_trainees() -> None:
    from_csv = parse_ok((EXAMPLES / "roster.csv").read_bytes(), "roster.csv")
    from_xlsx = parse_ok((EXAMPLES / "roster.xlsx").read_bytes(), "roster.xlsx")
    assert len(from_csv) == 40
    assert [without_line(row) for row in from_csv] == [without_line(row) for row in from_xlsx]
    # Pakistan, Nigeria and Ethiopia send two trainees each.
    assert len({row.country for row in from_csv}) == 37
    # Lines are those the organiser sees: header on line 1 in the CSV, on row 4 in the
    # workbook below its title rows.
    assert [row.line for row in from_csv] == list(range(2, 42))
    assert [row.line for row in from_xlsx] == list(range(5, 45))


def test_the_sample_fields_are_normalised() -> None:
    rows = parse_ok((EXAMPLES / "roster.csv").read_bytes())
    assert rows[0] == RosterRow(
        line=2,
        full_name="Amina Nakato",
        gender="F",
        country="UG",
        organisation="Ministry of Trade Industry and Cooperatives",
        position="Senior Trade Officer",
        email="amina.nakato@mtic.go.ug",
        language="en",
        phone="+256 772 410 118",
    )
    by_name = {row.full_name: row for row in rows}
    assert by_name["Koffi Jean-Baptiste Kouassi"].country == "CI"
    assert by_name["Koffi Jean-Baptiste Kouassi"].language == "fr"
    assert by_name["Nguyễn Thị Thu Hương"].country == "VN"
    assert by_name["Mohamed Abdelrahman Hassan"].language == "ar"
    assert by_name["Aigerim Zhaksylykova"].language == "ru"
    assert by_name["José Luis Quispe Mamani"].language == "es"
    assert {row.gender for row in rows} == {"F", "M"}


# --------------------------------------------------------------------------- CSV variants


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_comma_semicolon_and_tab_separated_files(delimiter: str) -> None:
    rows = parse_ok(csv_bytes(HEADER, AMINA, DILSHOD, delimiter=delimiter))
    assert [row.country for row in rows] == ["UG", "UZ"]
    assert rows[1].phone == "+998 90 123 4567"


def test_semicolons_with_commas_inside_cells() -> None:
    data = (
        b"Full name;Country;Email;Organisation\n"
        b'Amina Nakato;Uganda;amina@mtic.go.ug;"Ministry of Trade, Industry and Cooperatives"\n'
    )
    rows = parse_ok(data)
    assert rows[0].organisation == "Ministry of Trade, Industry and Cooperatives"


def test_utf8_with_byte_order_mark() -> None:
    rows = parse_ok(b"\xef\xbb\xbf" + csv_bytes(HEADER, KOFFI))
    assert rows[0].full_name == "Koffi Kouassi"
    assert rows[0].country == "CI"


def test_windows_1252_file_keeps_accents() -> None:
    data = csv_bytes(HEADER, KOFFI, encoding="cp1252")
    rows = parse_ok(data)
    assert rows[0].organisation == "Ministère du Commerce"
    assert rows[0].country == "CI"
    assert rows[0].language == "fr"


def test_latin1_file_with_bytes_windows_1252_lacks() -> None:
    # 0x81 is undefined in Windows-1252, so only Latin-1 can read this file.
    data = csv_bytes(HEADER, KOFFI, encoding="latin-1").replace(b"Sous", b"\x81Sous")
    rows = parse_ok(data)
    assert rows[0].country == "CI"


def test_title_lines_above_the_header_in_a_csv() -> None:
    data = csv_bytes(
        "2027 Seminar on Digital Trade",
        "List of nominated participants (Cohort A)",
        "",
        "No.," + HEADER,
        "1," + AMINA,
        "",
        "2," + DILSHOD,
    )
    rows = parse_ok(data)
    assert [row.line for row in rows] == [5, 7]
    assert [row.full_name for row in rows] == ["Amina Nakato", "Dilshod Rakhimov"]


def test_multiline_cells_keep_spreadsheet_row_numbers() -> None:
    data = csv_bytes(
        "Full name,Country,Email,Position",
        'Amina Nakato,Uganda,amina@mtic.go.ug,"Senior Officer\nTrade"',
        "Dilshod Rakhimov,Uzbekistan,not-an-email,Head",
    )
    result = parse_roster(data, "roster.csv")
    assert [error.line for error in result.errors] == [3]


@pytest.mark.parametrize(
    "header",
    [
        "ФИО,Пол,Страна,Организация,Должность,Эл. почта,Язык,Телефон",
        "姓名,性别,国家,工作单位,职务,电子邮件,语言,手机",
        "Nom complet,Sexe,Pays,Organisme,Poste,Courriel,Langue,Téléphone",
        "Nombre completo,Sexo,País,Organización,Cargo,Correo electrónico,Idioma,Teléfono",
        "الاسم,الجنس,البلد,المؤسسة,المنصب,البريد الإلكتروني,اللغة,الهاتف",
        "Passport name,Sex,Nationality,Institution,Job title,E-mail,Language,WhatsApp",
        "FULL NAME (as in passport),SEX (M/F),Country [of origin],Ministry,Title,"
        "E-Mail,Language,Mobile",
    ],
)
def test_headers_in_other_languages_and_wordings(header: str) -> None:
    data = csv_bytes(
        header,
        "Ольга Коваленко,Ж,Беларусь,Министерство торговли,Консультант,"
        "o.kovalenko@mart.gov.by,Русский,+375 29 600 7788",
        "王芳,女,乌兹别克斯坦,投资部,处长,wang.fang@miit.uz,中文,+998 90 000 0000",
        "Marie Diop,Femme,Sénégal,ASEPEX,Chargée,m.diop@asepex.sn,Français,+221 77 000 00 00",
    )
    rows = parse_ok(data)
    assert [(row.gender, row.country, row.language) for row in rows] == [
        ("F", "BY", "ru"),
        ("F", "UZ", "zh"),
        ("F", "SN", "fr"),
    ]
    assert rows[1].full_name == "王芳"
    assert rows[0].phone == "+375 29 600 7788"


def test_optional_columns_may_be_absent_and_unknown_columns_are_ignored() -> None:
    rows = parse_ok(
        csv_bytes("No.,Name,Country,Email,Dietary needs", "1,Amina Nakato,UG,a@mtic.go.ug,halal")
    )
    assert rows == [
        RosterRow(
            line=2,
            full_name="Amina Nakato",
            gender=None,
            country="UG",
            organisation=None,
            position=None,
            email="a@mtic.go.ug",
            language=None,
            phone=None,
        )
    ]


def test_values_are_tidied() -> None:
    rows = parse_ok(
        csv_bytes(
            HEADER,
            "  Amina\u00a0  Nakato ,female,  uganda ,Ministry  of Trade,Officer,"
            " Amina.Nakato@MTIC.GO.UG ,ENGLISH,  +256 772 410 118  ",
        )
    )
    row = rows[0]
    assert row.full_name == "Amina Nakato"
    assert row.gender == "F"
    assert row.country == "UG"
    assert row.organisation == "Ministry of Trade"
    assert row.email == "Amina.Nakato@mtic.go.ug"
    assert row.language == "en"
    assert row.phone == "+256 772 410 118"


@pytest.mark.parametrize(
    ("written", "gender"),
    [
        *[("M", "M"), ("male", "M"), ("М", "M"), ("男", "M"), ("Homme", "M"), ("H", "M")],
        *[("Hombre", "M"), ("ذكر", "M"), ("Mr", "M"), ("f", "F"), ("Female", "F"), ("Ж", "F")],
        *[("女", "F"), ("Femme", "F"), ("Mujer", "F"), ("أنثى", "F"), ("Ms", "F"), ("", None)],
    ],
)
def test_gender_in_any_of_our_languages(written: str, gender: str | None) -> None:
    rows = parse_ok(csv_bytes("Name,Sex,Country,Email", f"Amina Nakato,{written},UG,a@b.go.ug"))
    assert rows[0].gender == gender


@pytest.mark.parametrize(
    ("written", "language"),
    [
        ("English", "en"),
        ("Russian", "ru"),
        ("русский", "ru"),
        ("Français", "fr"),
        ("中文", "zh"),
        ("Chinese (Simplified)", "zh"),
        ("Arabic", "ar"),
        ("العربية", "ar"),
        ("Spanish", "es"),
        ("Español", "es"),
        ("ru", "ru"),
        ("EN", "en"),
        ("English / French", "en"),
        ("Portuguese", None),
        ("Português", None),
        ("", None),
    ],
)
def test_preferred_language(written: str, language: str | None) -> None:
    data = csv_bytes("Name,Country,Email,Language", f"Amina Nakato,UG,a@b.go.ug,{written}")
    assert parse_ok(data)[0].language == language


# --------------------------------------------------------------------------- XLSX


def test_xlsx_found_by_content_whatever_its_name() -> None:
    data = (EXAMPLES / "roster.xlsx").read_bytes()
    assert len(parse_ok(data, "roster.csv")) == 40
    assert len(parse_ok(data, "attachment")) == 40


def test_xlsx_phone_numbers_stored_as_numbers_keep_their_digits() -> None:
    data = xlsx_bytes(
        [
            ["Participants"],
            [],
            ["Name", "Country", "Email", "Phone", "Gender"],
            ["Amina Nakato", "Uganda", "amina@mtic.go.ug", 256772410118, "F"],
            ["Dilshod Rakhimov", "Uzbekistan", "d@miit.uz", 998901234567.0, "M"],
            [12345, "Uganda", "n@mtic.go.ug", None, None],
        ]
    )
    rows = parse_ok(data, "roster.xlsx")
    assert [row.phone for row in rows] == ["256772410118", "998901234567", None]
    assert [row.line for row in rows] == [4, 5, 6]
    assert rows[2].full_name == "12345"


def test_xlsx_skips_a_sheet_without_a_header() -> None:
    workbook = Workbook()
    instructions = workbook.active
    assert instructions is not None
    instructions.append(["Please fill in the second sheet"])
    sheet = workbook.create_sheet("Trainees")
    sheet.append(["Name", "Country", "Email"])
    sheet.append(["Amina Nakato", "Uganda", "amina@mtic.go.ug"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = parse_ok(buffer.getvalue(), "roster.xlsx")
    assert [row.full_name for row in rows] == ["Amina Nakato"]


def test_xlsx_errors_name_sheet_rows() -> None:
    data = xlsx_bytes(
        [
            ["Title"],
            ["Name", "Country", "Email"],
            ["Amina Nakato", "Uganda", "x@"],
        ]
    )
    assert reasons(parse_roster(data, "roster.xlsx")) == [
        "Line 3: the e-mail address 'x@' is not valid."
    ]


# --------------------------------------------------------------------------- refusals


def test_a_missing_required_column_is_named() -> None:
    result = parse_roster(csv_bytes("Name,Gender,Country", "Amina Nakato,F,Uganda"), "r.csv")
    assert reasons(result) == [
        "Line 1: the column for e-mail is missing; expected a header such as 'Email'."
    ]
    assert result.errors[0].line == 1
    assert result.errors[0].column == Column.EMAIL


def test_every_missing_column_is_named_on_the_header_line() -> None:
    result = parse_roster(csv_bytes("Title row", "Gender,Phone,Position", "F,1,x"), "r.csv")
    assert [(error.line, error.column) for error in result.errors] == [
        (2, "full_name"),
        (2, "country"),
        (2, "email"),
    ]


def test_missing_column_is_explained_in_the_reader_language() -> None:
    with use_locale("ru"):
        result = parse_roster(csv_bytes("ФИО,Страна", "Ольга,Беларусь"), "r.csv")
    assert "'Эл. почта'" in result.errors[0].reason


@pytest.mark.parametrize("email", ["x@", "no-at-sign", "a b@c.org", "a@b"])
def test_invalid_emails(email: str) -> None:
    data = csv_bytes("Name,Country,Email", "Amina Nakato,Uganda,a@mtic.go.ug", f"Bob,Kenya,{email}")
    result = parse_roster(data, "r.csv")
    assert reasons(result) == [f"Line 3: the e-mail address '{email}' is not valid."]
    assert result.errors[0].column == "email"


def test_unknown_country_suggests_close_names() -> None:
    data = csv_bytes("Name,Country,Email", "Amina Nakato,Ugnada,a@mtic.go.ug")
    (reason,) = reasons(parse_roster(data, "r.csv"))
    # The closest name comes first.
    assert reason.startswith("Line 2: the country 'Ugnada' is not recognised; did you mean Uganda")
    assert reason.endswith("?")


def test_unknown_country_without_anything_close() -> None:
    data = csv_bytes("Name,Country,Email", "Amina Nakato,Xqzzv,a@mtic.go.ug")
    assert reasons(parse_roster(data, "r.csv")) == [
        "Line 2: the country 'Xqzzv' is not recognised."
    ]


def test_suggestions_are_in_the_reader_language() -> None:
    data = csv_bytes("Name,Country,Email", "Amina Nakato,Korea,a@mtic.go.ug")
    with use_locale("ru"):
        (error,) = parse_roster(data, "r.csv").errors
    assert "Республика Корея" in error.reason
    assert "КНДР" in error.reason


def test_duplicate_email_names_both_lines() -> None:
    data = csv_bytes(
        HEADER,
        AMINA,
        DILSHOD,
        KOFFI.replace("jb.kouassi@commerce.gouv.ci", "Amina.Nakato@MTIC.go.ug"),
    )
    assert reasons(parse_roster(data, "r.csv")) == [
        "Line 4: the e-mail address Amina.Nakato@mtic.go.ug is already on line 2."
    ]


def test_duplicate_person_names_both_lines() -> None:
    data = csv_bytes(HEADER, AMINA, DILSHOD, AMINA.replace("amina.nakato@", "amina2@"))
    assert reasons(parse_roster(data, "r.csv")) == [
        "Line 4: Amina Nakato from the same country is already on line 2."
    ]


def test_same_name_from_another_country_is_fine() -> None:
    data = csv_bytes(
        "Name,Country,Email", "Ali Khan,Pakistan,a@x.gov.pk", "Ali Khan,India,a@y.gov.in"
    )
    assert len(parse_ok(data)) == 2


def test_every_bad_row_is_reported() -> None:
    data = csv_bytes(
        HEADER,
        AMINA,
        ",F,Uganda,,,b@mtic.go.ug,English,",
        "Bob,X,Atlantis,,,bob@,Klingon123,",
        "Carol,F,Kenya,,,,,",
        "Dan,M,,,,dan@x.go.ke,,",
        "Eve,F,Kenya,,,eve@x.go.ke,xx123,",
    )
    result = parse_roster(data, "r.csv")
    assert [(error.line, error.column) for error in result.errors] == [
        (3, "full_name"),
        (4, "email"),
        (4, "country"),
        (4, "gender"),
        (4, "language"),
        (5, "email"),
        (6, "country"),
        (7, "language"),
    ]
    assert all(error.reason.startswith(f"Line {error.line}: ") for error in result.errors)
    assert "Line 7: the language 'xx123' is not recognised" in result.errors[-1].reason
    assert "Line 3: the full name is missing." in reasons(result)
    assert "Line 5: the e-mail address is missing." in reasons(result)
    assert "Line 6: the country is missing." in reasons(result)


def test_empty_file() -> None:
    assert reasons(parse_roster(b"", "r.csv")) == ["The file is empty."]
    assert reasons(parse_roster(b" \r\n\r\n", "r.csv")) == ["The file is empty."]


def test_header_only_file() -> None:
    result = parse_roster(csv_bytes(HEADER, "", ",,,,,,,"), "r.csv")
    assert reasons(result) == ["The file has a header on line 1 but no participants below it."]


def test_text_without_a_header() -> None:
    result = parse_roster(b"hello,world\nthis is,not a roster\n", "r.csv")
    (reason,) = reasons(result)
    assert reason.startswith("The header row was not found")
    assert "'Full name'" in reason


def test_utf16_file_is_not_readable() -> None:
    data = "\n".join([HEADER, AMINA]).encode("utf-16")
    assert reasons(parse_roster(data, "r.csv")) == [
        "The file is not a readable CSV or XLSX spreadsheet."
    ]


def test_random_binary_is_not_readable() -> None:
    data = random.Random(7).randbytes(50_000)
    assert reasons(parse_roster(data, "roster.csv")) == [
        "The file is not a readable CSV or XLSX spreadsheet."
    ]


def test_binary_without_nul_bytes_is_not_readable() -> None:
    data = bytes(byte for byte in random.Random(8).randbytes(50_000) if byte)
    assert reasons(parse_roster(data, "roster.csv")) == [
        "The file is not a readable CSV or XLSX spreadsheet."
    ]


def test_a_damaged_xlsx_is_not_readable() -> None:
    data = (EXAMPLES / "roster.xlsx").read_bytes()
    assert reasons(parse_roster(data[: len(data) // 2], "roster.xlsx")) == [
        "The file is not a readable CSV or XLSX spreadsheet."
    ]
    assert reasons(parse_roster(b"PK\x03\x04" + os.urandom(1000), "roster.xlsx")) == [
        "The file is not a readable CSV or XLSX spreadsheet."
    ]


def test_old_excel_workbook_is_explained() -> None:
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000)
    (reason,) = reasons(parse_roster(data, "Roster.XLS"))
    assert ".xls" in reason


def test_a_file_over_10_mb_is_refused_with_one_error() -> None:
    line = AMINA + "\r\n"
    data = csv_bytes(HEADER) + line.encode() * (MAX_FILE_BYTES // len(line) + 1)
    assert len(data) > MAX_FILE_BYTES
    assert reasons(parse_roster(data, "r.csv")) == [
        "The file is larger than 10 MB; split it into smaller files."
    ]


def test_10000_rows_are_accepted() -> None:
    lines = [f"Trainee {n},Uganda,t{n}@mtic.go.ug" for n in range(MAX_ROWS)]
    rows = parse_ok(csv_bytes("Name,Country,Email", *lines))
    assert len(rows) == MAX_ROWS
    assert rows[-1].line == MAX_ROWS + 1


def test_10001_rows_are_refused_with_one_error() -> None:
    lines = [f"Trainee {n},Atlantis,bad-email" for n in range(MAX_ROWS + 1)]
    result = parse_roster(csv_bytes("Name,Country,Email", *lines), "r.csv")
    assert reasons(result) == [
        "The file has more than 10,000 participants; split it into smaller files."
    ]


def test_10001_rows_in_xlsx_are_refused_with_one_error() -> None:
    rows: list[list[object]] = [["Name", "Country", "Email"]]
    rows += [[f"Trainee {n}", "Uganda", f"t{n}@mtic.go.ug"] for n in range(MAX_ROWS + 1)]
    result = parse_roster(xlsx_bytes(rows), "r.xlsx")
    assert len(result.errors) == 1
    assert "more than 10,000" in result.errors[0].reason


def test_errors_are_worded_in_the_current_locale_with_the_line_number() -> None:
    data = csv_bytes("Name,Country,Email", "Amina Nakato,Uganda,x@")
    for locale in ("en", "ru", "zh", "fr", "es", "ar"):
        with use_locale(locale):
            (error,) = parse_roster(data, "r.csv").errors
        assert error.line == 2
        assert "2" in error.reason
        assert "x@" in error.reason


def test_no_header_name_means_two_columns() -> None:
    seen: dict[str, Column] = {}
    for column, by_language in HEADERS.items():
        for names in by_language.values():
            for name in names:
                assert seen.setdefault(fold_name(name), column) == column, name


def test_a_formal_country_name_gets_the_short_one_suggested() -> None:
    data = csv_bytes("Name,Country,Email", "Ivan Petrov,Russian Federation,i@minek.gov.ru")
    assert reasons(parse_roster(data, "r.csv")) == [
        "Line 2: the country 'Russian Federation' is not recognised; did you mean Russia?"
    ]


def test_a_workbook_that_unpacks_to_a_huge_size_is_refused(monkeypatch) -> None:
    # A small limit stands in for the real one, which would take long to compress.
    monkeypatch.setattr(roster_file, "MAX_XLSX_UNPACKED_BYTES", 100_000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<a/>" + b" " * 100_001)
    assert reasons(parse_roster(buffer.getvalue(), "roster.xlsx")) == [
        "The workbook is too large to read; split it into smaller files."
    ]
