"""Reading timetables: the spreadsheet variants organisers send (CSV in many shapes, XLSX),
and the limits every file is held to."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from bot.services.timetable.files import (
    MAX_FILE_BYTES,
    MAX_SESSIONS,
    parse_timetable,
)
from tests.unit.timetable_file_support import (
    BELGRADE,
    SHANGHAI,
    parse,
    parse_ok,
    utc,
)

# --- spreadsheet variants -------------------------------------------------------------------


def test_semicolon_cp1252_csv_with_day_first_dates() -> None:
    text = (
        "Date;Début;Fin;Séance;Intervenant;Lien\r\n"
        "08/03/2027;19:00;21:00;Cérémonie d'ouverture;Prof. Chen Wei;https://zoom.us/j/1\r\n"
        "09/03/2027;19.00;21.00;Économie numérique;Prof. Li Ming;\r\n"
    )
    result = parse_ok(text.encode("cp1252"), "séances.csv", default_language="fr")
    first, second = result.sessions
    assert first.titles == {"fr": "Cérémonie d'ouverture"}
    assert first.starts_at == utc(2027, 3, 8, 11, 0)
    assert second.starts_at == utc(2027, 3, 9, 11, 0)
    assert second.join_url is None
    assert first.speaker == "Prof. Chen Wei"


def test_russian_headers_with_moscow_time() -> None:
    text = (
        "\ufeffДата;Начало (МСК);Конец (МСК);Тема;Лектор;Тип;Ссылка\n"
        "08.03.2027;14:00;16:00;Церемония открытия;Проф. Чэнь Вэй;Церемония;"
        "https://www.eeo.cn/live.php?lessonKey=dt27001\n"
    )
    (session,) = parse_ok(text, "расписание.csv", BELGRADE, default_language="ru").sessions
    assert session.starts_at == utc(2027, 3, 8, 11, 0)
    assert session.titles == {"ru": "Церемония открытия"}
    assert session.speaker == "Проф. Чэнь Вэй"
    assert session.kind == "церемония"


def test_chinese_headers_tab_separated_and_time_range() -> None:
    text = "日期\t时间\t主题\t讲师\t链接\n2027年3月8日\t19:00-21:00\t开幕式\t陈伟教授\thttps://www.eeo.cn/a\n"
    (session,) = parse_ok(text, "课表.tsv", default_language="zh").sessions
    assert session.starts_at == utc(2027, 3, 8, 11, 0)
    assert session.ends_at == utc(2027, 3, 8, 13, 0)
    assert session.titles == {"zh": "开幕式"}


def test_title_columns_in_several_languages() -> None:
    text = (
        "Session (ru),Date,Start,End,Session,主题,Description,Description (fr)\n"
        "Открытие,2027-03-08,19:00,21:00,Opening,开幕式,Welcome,Bienvenue\n"
    )
    (session,) = parse_ok(text).sessions
    assert session.titles == {"en": "Opening", "ru": "Открытие", "zh": "开幕式"}
    assert session.title == "Opening"
    assert session.descriptions == {"en": "Welcome", "fr": "Bienvenue"}


def test_header_zone_as_offset_and_iana_name_and_duration() -> None:
    text = (
        "Date,Start (UTC+3),Duration,Title\n"
        "2027-03-08,14:00,90,Opening\n"
        "2027-03-09,14:00,1:30,Second\n"
    )
    sessions = parse_ok(text).sessions
    assert [s.starts_at for s in sessions] == [utc(2027, 3, 8, 11, 0), utc(2027, 3, 9, 11, 0)]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=90) for s in sessions)

    text = "Date,From (Europe/Belgrade),To,Topic\n2027-03-29,12:00,13:00,After DST\n"
    (session,) = parse_ok(text).sessions
    assert session.starts_at == utc(2027, 3, 29, 10, 0)
    assert session.ends_at == utc(2027, 3, 29, 11, 0)


def test_explicit_id_column_and_am_pm_times_and_blank_date_continues() -> None:
    text = (
        "ID,Date,Start,End,Title,Room\n"
        "S1,2027-03-08,9:00 AM,10:30 AM,Morning,Hall A\n"
        "S2,,7:00 PM,9:00 PM,Evening,\n"
    )
    first, second = parse_ok(text).sessions
    assert (first.key, second.key) == ("S1", "S2")
    assert first.location == "Hall A"
    assert second.starts_at == utc(2027, 3, 8, 11, 0)


def test_unrecognised_zone_in_header_is_refused() -> None:
    text = "Date,Start (Bejing time),End,Title\n2027-03-08,19:00,21:00,Opening\n"
    result = parse(text)
    assert result.sessions == []
    assert len(result.errors) == 1
    assert result.errors[0].row == 1
    assert "Bejing" in result.errors[0].message


def test_bad_rows_are_all_reported_with_spreadsheet_row_numbers() -> None:
    text = (
        "Belgrade seminar timetable\n"  # row 1: a title above the table
        "\n"
        "Date,Start,End,Title,Link\n"  # row 3: the header
        "2027-02-30,19:00,21:00,Bad date,\n"  # row 4
        "2027-03-08,21:00,19:00,Backwards,\n"  # row 5
        "2027-03-28,02:30,03:30,In the DST gap,\n"  # row 6
        "2027-03-09,19:00,21:00,Bad link,zoom dot us slash 123\n"  # row 7
        "2027-03-10,19:00,21:00,Twice,\n"  # row 8
        "2027-03-10,19:00,21:00,Twice,\n"  # row 9
        "2027-03-11,19:00,,No end,\n"  # row 10
        "2027-03-12,19:00,21:00,Fine,https://zoom.us/j/1\n"  # row 11
        "2027-10-31,02:30,03:30,Twice in the night,\n"  # row 12: the clocks go back
    )
    result = parse(text, tz=BELGRADE)
    rows = [error.row for error in result.errors]
    assert rows == [4, 5, 6, 7, 9, 10, 12]
    messages = {error.row: error.message for error in result.errors}
    assert messages[4].startswith("Row 4:")
    assert "2027-02-30" in messages[4]
    assert "end time 19:00 is not after the start 21:00" in messages[5]
    assert "2027-03-28 02:30 does not exist in Europe/Belgrade" in messages[6]
    assert "zoom dot us" in messages[7]
    assert messages[9].startswith("Rows 8 and 9 ")
    assert "end time is missing" in messages[10]
    assert "2027-10-31 02:30" in messages[12]


def test_xlsx_with_title_rows_real_dates_times_and_merged_cells() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["2027 Seminar on Digital Trade"])
    sheet.append(["Timetable (all times Beijing time)"])
    sheet.append([])
    sheet.append(["Date", "Start (Beijing time)", "End (Beijing time)", "Session", "Speaker"])
    sheet.append([datetime(2027, 3, 8), time(19, 0), time(21, 0), "Opening", "Prof. Chen"])
    sheet.append([None, time(21, 15), time(22, 0), "Q&A", "Team"])
    sheet.append(["Break: no sessions on Sunday"])
    sheet.append([date(2027, 3, 9), datetime(1899, 12, 30, 19, 0), "21:00", "Second", None])
    sheet.merge_cells("A5:A6")
    sheet.merge_cells("A7:E7")
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = parse_ok(buffer.getvalue(), "timetable.xlsx", BELGRADE)
    assert [(s.title, s.starts_at, s.ends_at) for s in result.sessions] == [
        ("Opening", utc(2027, 3, 8, 11, 0), utc(2027, 3, 8, 13, 0)),
        ("Q&A", utc(2027, 3, 8, 13, 15), utc(2027, 3, 8, 14, 0)),
        ("Second", utc(2027, 3, 9, 11, 0), utc(2027, 3, 9, 13, 0)),
    ]
    assert result.sessions[0].source == "row 5"
    assert result.sessions[2].source == "row 8"


def test_xlsx_bad_row_numbers_match_the_sheet() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Title row"])
    sheet.append(["Date", "Start", "End", "Title"])
    sheet.append([date(2027, 3, 8), time(21, 0), time(19, 0), "Backwards"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = parse(buffer.getvalue(), "t.xlsx")
    assert [e.row for e in result.errors] == [3]


def test_damaged_xlsx_is_one_error() -> None:
    result = parse(b"PK\x03\x04" + b"\x00" * 200, "t.xlsx")
    assert len(result.errors) == 1
    assert result.sessions == []


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"", "timetable.csv"),
        (b"\r\n  \r\n", "timetable.csv"),
        (b"", "timetable.ics"),
        (bytes(range(256)) * 8, "timetable.csv"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "photo.png"),
        (b"just some words\nand more words\n", "notes.txt"),
    ],
)
def test_empty_and_garbage_files_are_one_error(data: bytes, filename: str) -> None:
    result = parse(data, filename)
    assert result.sessions == []
    assert len(result.errors) == 1
    assert not result.ok


def test_old_excel_format_is_refused() -> None:
    result = parse(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "timetable.xls")
    assert len(result.errors) == 1
    assert ".xlsx" in result.errors[0].message


def test_file_size_limit() -> None:
    result = parse(b"x" * (MAX_FILE_BYTES + 1), "big.csv")
    assert len(result.errors) == 1


def test_session_count_limit() -> None:
    start = date(2027, 1, 1)
    rows = [
        f"{start + timedelta(days=i // 10)},{10 + i % 10}:00,{10 + i % 10}:30,Session {i}"
        for i in range(MAX_SESSIONS + 1)
    ]
    result = parse("Date,Start,End,Title\n" + "\n".join(rows))
    assert result.sessions == []
    assert len(result.errors) == 1
    assert str(MAX_SESSIONS) in result.errors[0].message


def test_unknown_programme_zone_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="Mars"):
        parse_timetable(b"Date,Start,End,Title\n", "t.csv", "Mars/Olympus")


@settings(max_examples=60, deadline=None)
@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    start=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    minutes=st.integers(min_value=1, max_value=180),
    tz=st.sampled_from([SHANGHAI, "Asia/Tashkent", "Africa/Kampala", "UTC"]),
)
def test_any_csv_time_becomes_the_right_utc_instant(
    day: date, start: time, minutes: int, tz: str
) -> None:
    begins = datetime.combine(day, start)
    ends = begins + timedelta(minutes=minutes)
    if ends.date() != day:
        return  # a session past midnight needs a date-and-time end, not covered here
    text = f"Date,Start,End,Title\n{day:%d.%m.%Y},{start:%H:%M},{ends:%H:%M},Session\n"
    (session,) = parse_ok(text, tz=tz).sessions
    assert session.starts_at == begins.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)
    assert session.ends_at == ends.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)
    assert session.starts_at.tzinfo is UTC
