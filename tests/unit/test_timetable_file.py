"""Reading timetables: the programme's real CSV and ICS files and the calendar variants
organisers send."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from bot.services.timetable.files import (
    MAX_SESSIONS,
    TimetableParseResult,
)
from tests.unit.timetable_file_support import (
    BELGRADE,
    EXAMPLES,
    SHANGHAI,
    assert_all_utc,
    by_key,
    ics,
    parse,
    parse_ok,
    utc,
)

# --- the programme's own files ------------------------------------------------------------


@pytest.fixture(scope="module")
def example_csv() -> TimetableParseResult:
    return parse_ok((EXAMPLES / "timetable.csv").read_bytes(), "timetable.csv")


@pytest.fixture(scope="module")
def example_ics() -> TimetableParseResult:
    return parse_ok((EXAMPLES / "timetable.ics").read_bytes(), "timetable.ics")


def test_example_csv_has_twenty_sessions_in_utc(example_csv: TimetableParseResult) -> None:
    sessions = example_csv.sessions
    assert len(sessions) == 20
    assert_all_utc(example_csv)
    first = sessions[0]
    assert first.title == "Opening Ceremony and Programme Briefing"
    assert first.titles == {"en": "Opening Ceremony and Programme Briefing"}
    assert first.starts_at == utc(2027, 3, 8, 11, 0)
    assert first.ends_at == utc(2027, 3, 8, 13, 0)
    assert first.speaker == "Prof. Chen Wei"
    assert first.kind == "ceremony"
    assert first.join_url == "https://www.eeo.cn/live.php?lessonKey=dt27001"
    assert first.all_day is False
    assert first.source == "row 2"
    assert sessions[-1].starts_at == utc(2027, 4, 2, 11, 0)
    assert {s.kind for s in sessions} == {"ceremony", "lecture", "discussion", "visit", "workshop"}
    assert all(s.join_url and s.join_url.startswith("https://www.eeo.cn/") for s in sessions)
    assert len({s.key for s in sessions}) == 20
    assert example_csv.cancelled_keys == []


def test_example_csv_header_zone_wins_over_programme_zone() -> None:
    # "Start (Beijing time)" says Beijing even if the programme lives elsewhere.
    result = parse_ok((EXAMPLES / "timetable.csv").read_bytes(), "timetable.csv", BELGRADE)
    assert result.sessions[0].starts_at == utc(2027, 3, 8, 11, 0)
    # Beijing has no daylight saving: every session is 11:00 UTC, across Serbia's change.
    assert {s.starts_at.time() for s in result.sessions} == {time(11, 0)}


def test_example_ics_matches_csv_and_expands_extras(
    example_csv: TimetableParseResult, example_ics: TimetableParseResult
) -> None:
    assert_all_utc(example_ics)
    lectures = [s for s in example_ics.sessions if s.key.startswith("dt27-0")]
    assert len(lectures) == 20
    assert [(s.title, s.starts_at, s.ends_at, s.join_url, s.speaker) for s in lectures] == [
        (s.title, s.starts_at, s.ends_at, s.join_url, s.speaker) for s in example_csv.sessions
    ]
    assert lectures[0].key == "dt27-001@training-base.example.org"
    assert lectures[0].source == (
        "event “Opening Ceremony and Programme Briefing” (UID dt27-001@training-base.example.org)"
    )
    # The LOCATION holds only the join link: it is the link, not a place.
    assert lectures[0].location is None
    assert lectures[0].descriptions == {}

    office = [s for s in example_ics.sessions if s.key.startswith("dt27-office-hours")]
    assert [s.starts_at for s in office] == [
        utc(2027, 3, 10, 10, 0),
        utc(2027, 3, 17, 10, 0),
        utc(2027, 3, 24, 10, 0),
        utc(2027, 3, 31, 10, 0),
    ]
    assert office[0].key == "dt27-office-hours@training-base.example.org/2027-03-10T10:00:00Z"
    assert all(s.ends_at - s.starts_at == timedelta(hours=1) for s in office)
    assert office[0].join_url == "https://www.eeo.cn/live.php?lessonKey=dt27office"
    assert office[0].descriptions == {
        "en": "Questions about assignments, certificates and logistics."
    }

    (study,) = [s for s in example_ics.sessions if s.all_day]
    assert study.key == "dt27-selfstudy@training-base.example.org"
    assert study.starts_at == utc(2027, 3, 19, 16, 0)  # 2027-03-20 00:00 in Beijing
    assert study.ends_at == utc(2027, 3, 20, 16, 0)

    assert example_ics.cancelled_keys == ["dt27-cancelled@training-base.example.org"]
    assert "dt27-cancelled@training-base.example.org" not in by_key(example_ics)
    assert len(example_ics.sessions) == 20 + 4 + 1


# --- calendar variants ----------------------------------------------------------------------


OUTLOOK_TZ = """
BEGIN:VTIMEZONE
TZID:China Standard Time
BEGIN:STANDARD
DTSTART:16010101T000000
TZOFFSETFROM:+0800
TZOFFSETTO:+0800
END:STANDARD
END:VTIMEZONE
"""


def test_outlook_windows_zone_name() -> None:
    data = ics(
        OUTLOOK_TZ,
        """
BEGIN:VEVENT
UID:040000008200E00074C5B7101A82E008
SUMMARY;LANGUAGE=en-us:Opening Ceremony
DTSTART;TZID="China Standard Time":20270308T190000
DTEND;TZID="China Standard Time":20270308T210000
LOCATION:Online
DESCRIPTION:Join: https://zoom.us/j/123456789?pwd=abc
END:VEVENT
""",
        header="PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN",
    )
    (session,) = parse_ok(data, "invite.ics", BELGRADE).sessions
    assert session.starts_at == utc(2027, 3, 8, 11, 0)
    assert session.ends_at == utc(2027, 3, 8, 13, 0)
    assert session.titles == {"en": "Opening Ceremony"}
    assert session.location == "Online"
    assert session.join_url == "https://zoom.us/j/123456789?pwd=abc"


def test_windows_zone_name_without_vtimezone() -> None:
    data = ics("""
BEGIN:VEVENT
UID:w1
SUMMARY:Opening
DTSTART;TZID=Russian Standard Time:20270308T140000
DTEND;TZID=Russian Standard Time:20270308T160000
END:VEVENT
""")
    (session,) = parse_ok(data, "x.ics").sessions
    assert session.starts_at == utc(2027, 3, 8, 11, 0)  # Moscow is UTC+3


def test_unknown_tzid_is_an_error_not_a_silent_shift() -> None:
    data = ics("""
BEGIN:VEVENT
UID:u1
SUMMARY:Opening
DTSTART;TZID=Mars/Olympus:20270308T190000
DTEND;TZID=Mars/Olympus:20270308T210000
END:VEVENT
""")
    result = parse(data, "x.ics")
    assert result.sessions == []
    assert len(result.errors) == 1
    assert result.errors[0].message == (
        "Event “Opening” (UID u1): its time zone “Mars/Olympus” is not recognised."
    )


def test_x_wr_timezone_applies_to_floating_times() -> None:
    data = ics(
        """
BEGIN:VEVENT
UID:g1
SUMMARY:Before the clock change
DTSTART:20270326T190000
DTEND:20270326T200000
END:VEVENT
BEGIN:VEVENT
UID:g2
SUMMARY:After the clock change
DTSTART:20270329T190000
DTEND:20270329T200000
END:VEVENT
BEGIN:VEVENT
UID:g3
SUMMARY:Written in UTC
DTSTART:20270330T100000Z
DTEND:20270330T110000Z
END:VEVENT
""",
        header="X-WR-TIMEZONE:Europe/Belgrade",
    )
    sessions = by_key(parse_ok(data, "google.ics", SHANGHAI))
    assert sessions["g1"].starts_at == utc(2027, 3, 26, 18, 0)
    assert sessions["g2"].starts_at == utc(2027, 3, 29, 17, 0)
    assert sessions["g3"].starts_at == utc(2027, 3, 30, 10, 0)


def test_floating_times_without_x_wr_timezone_use_programme_zone() -> None:
    data = ics("""
BEGIN:VEVENT
UID:f1
SUMMARY:Floating
DTSTART:20270308T190000
DTEND:20270308T210000
END:VEVENT
""")
    (session,) = parse_ok(data, "x.ics", SHANGHAI).sessions
    assert session.starts_at == utc(2027, 3, 8, 11, 0)
    (session,) = parse_ok(data, "x.ics", BELGRADE).sessions
    assert session.starts_at == utc(2027, 3, 8, 18, 0)


def test_floating_time_in_a_dst_gap_is_an_error() -> None:
    data = ics("""
BEGIN:VEVENT
UID:gap
SUMMARY:Night owl
DTSTART:20270328T023000
DTEND:20270328T033000
END:VEVENT
""")
    result = parse(data, "x.ics", BELGRADE)
    assert result.sessions == []
    assert len(result.errors) == 1
    assert "2027-03-28 02:30" in result.errors[0].message
    assert "Europe/Belgrade" in result.errors[0].message


def test_rrule_with_exdate() -> None:
    data = ics("""
BEGIN:VEVENT
UID:weekly@example.org
SUMMARY:Weekly clinic
DTSTART;TZID=Asia/Shanghai:20270310T180000
DTEND;TZID=Asia/Shanghai:20270310T190000
RRULE:FREQ=WEEKLY;COUNT=4
EXDATE;TZID=Asia/Shanghai:20270317T180000
END:VEVENT
""")
    result = parse_ok(data, "x.ics")
    assert [s.starts_at for s in result.sessions] == [
        utc(2027, 3, 10, 10, 0),
        utc(2027, 3, 24, 10, 0),
        utc(2027, 3, 31, 10, 0),
    ]
    assert [s.key for s in result.sessions] == [
        "weekly@example.org/2027-03-10T10:00:00Z",
        "weekly@example.org/2027-03-24T10:00:00Z",
        "weekly@example.org/2027-03-31T10:00:00Z",
    ]


def test_rdate_and_moved_and_cancelled_occurrences_keep_their_keys() -> None:
    data = ics("""
BEGIN:VEVENT
UID:series
SUMMARY:Clinic
DTSTART:20270310T100000Z
DTEND:20270310T110000Z
RRULE:FREQ=WEEKLY;COUNT=3
RDATE:20270401T100000Z
END:VEVENT
BEGIN:VEVENT
UID:series
RECURRENCE-ID:20270317T100000Z
SUMMARY:Clinic (moved)
DTSTART:20270318T120000Z
DTEND:20270318T130000Z
END:VEVENT
BEGIN:VEVENT
UID:series
RECURRENCE-ID:20270324T100000Z
SUMMARY:Clinic
STATUS:CANCELLED
DTSTART:20270324T100000Z
DTEND:20270324T110000Z
END:VEVENT
""")
    result = parse_ok(data, "x.ics")
    sessions = by_key(result)
    assert sorted(sessions) == [
        "series/2027-03-10T10:00:00Z",
        "series/2027-03-17T10:00:00Z",
        "series/2027-04-01T10:00:00Z",
    ]
    moved = sessions["series/2027-03-17T10:00:00Z"]
    assert moved.starts_at == utc(2027, 3, 18, 12, 0)
    assert moved.title == "Clinic (moved)"
    assert result.cancelled_keys == ["series/2027-03-24T10:00:00Z"]


def test_unbounded_weekly_rule_is_expanded_two_years() -> None:
    data = ics("""
BEGIN:VEVENT
UID:forever
SUMMARY:Weekly office hour
DTSTART:20270310T100000Z
DTEND:20270310T110000Z
RRULE:FREQ=WEEKLY
END:VEVENT
""")
    result = parse_ok(data, "x.ics")
    starts = [s.starts_at for s in result.sessions]
    assert starts[0] == utc(2027, 3, 10, 10, 0)
    assert starts[-1] <= utc(2027, 3, 10, 10, 0) + timedelta(days=731)
    assert starts[-1] > utc(2027, 3, 10, 10, 0) + timedelta(days=700)
    assert len(starts) in {105, 106}


def test_unbounded_daily_rule_beyond_the_cap_is_an_error() -> None:
    data = ics("""
BEGIN:VEVENT
UID:daily-forever
SUMMARY:Daily check-in
DTSTART:20270310T100000Z
DTEND:20270310T101500Z
RRULE:FREQ=DAILY
END:VEVENT
""")
    result = parse(data, "x.ics")
    assert len(result.errors) == 1
    assert "500" in result.errors[0].message
    assert "Daily check-in" in result.errors[0].message


def test_summary_languages_and_categories_and_speaker() -> None:
    data = ics("""
BEGIN:VEVENT
UID:ml
SUMMARY:Opening Ceremony
SUMMARY;LANGUAGE=ru:Церемония открытия
SUMMARY;LANGUAGE=zh-Hans:开幕式
CATEGORIES:Ceremony
DESCRIPTION:Speaker: Prof. Chen Wei\\nWelcome words and the programme.
URL:https://www.eeo.cn/live.php?lessonKey=x1
DTSTART:20270308T110000Z
DTEND:20270308T130000Z
END:VEVENT
""")
    (session,) = parse_ok(data, "x.ics", default_language="en").sessions
    assert session.titles == {
        "en": "Opening Ceremony",
        "ru": "Церемония открытия",
        "zh": "开幕式",
    }
    assert session.kind == "ceremony"
    assert session.speaker == "Prof. Chen Wei"
    assert session.descriptions == {"en": "Welcome words and the programme."}
    assert session.join_url == "https://www.eeo.cn/live.php?lessonKey=x1"


def test_bad_url_property_is_an_error() -> None:
    data = ics("""
BEGIN:VEVENT
UID:bad-url
SUMMARY:Opening
URL:ftp://files.example.org/slides
DTSTART:20270308T110000Z
DTEND:20270308T130000Z
END:VEVENT
""")
    result = parse(data, "x.ics")
    assert len(result.errors) == 1
    assert "ftp://files.example.org/slides" in result.errors[0].message


def test_duplicate_uid_is_an_error() -> None:
    event = """
BEGIN:VEVENT
UID:same
SUMMARY:{title}
DTSTART:20270308T110000Z
DTEND:20270308T130000Z
END:VEVENT
"""
    result = parse(ics(event.format(title="A"), event.format(title="B")), "x.ics")
    assert len(result.errors) == 1
    assert "same" in result.errors[0].message


@pytest.mark.parametrize(
    "data",
    [
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VCALENDAR\r\n",
        b"BEGIN:VCALENDAR\r\nthis is not a content line\r\nEND:VCALENDAR\r\n",
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:2027xx\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        b"\x00\xff\xfe\x01garbage" * 20,
    ],
)
def test_malformed_ics_is_one_error(data: bytes) -> None:
    result = parse(data, "calendar.ics")
    assert result.sessions == []
    assert len(result.errors) == 1
    assert result.errors[0].message


def test_event_without_uid_or_dtend_and_recurring_all_day_days() -> None:
    data = ics("""
BEGIN:VEVENT
SUMMARY:No UID here
DTSTART:20270308T110000Z
DURATION:PT1H30M
END:VEVENT
BEGIN:VEVENT
UID:days
SUMMARY:Self-study
DTSTART;VALUE=DATE:20270320
RRULE:FREQ=DAILY;COUNT=2
END:VEVENT
""")
    sessions = by_key(parse_ok(data, "x.ics"))
    assert sorted(sessions) == ["2027-03-08/no-uid-here", "days/2027-03-20", "days/2027-03-21"]
    assert sessions["2027-03-08/no-uid-here"].ends_at == utc(2027, 3, 8, 12, 30)
    day = sessions["days/2027-03-21"]
    assert day.all_day
    assert (day.starts_at, day.ends_at) == (utc(2027, 3, 20, 16, 0), utc(2027, 3, 21, 16, 0))


def test_broken_rule_is_reported_for_its_event_only() -> None:
    data = ics("""
BEGIN:VEVENT
UID:broken
SUMMARY:Broken rule
DTSTART:20270308T110000Z
RRULE:FREQ=SOMETIMES
END:VEVENT
BEGIN:VEVENT
UID:fine
SUMMARY:Fine
DTSTART:20270309T110000Z
DTEND:20270309T120000Z
END:VEVENT
""")
    result = parse(data, "x.ics")
    assert [s.key for s in result.sessions] == ["fine"]
    assert len(result.errors) == 1
    assert "Broken rule" in result.errors[0].message


def test_calendar_session_limit() -> None:
    event = "BEGIN:VEVENT\nUID:e{i}\nSUMMARY:S {i}\nDTSTART:20270308T110000Z\nEND:VEVENT"
    data = ics(*(event.format(i=i) for i in range(MAX_SESSIONS + 1)))
    result = parse(data, "x.ics")
    assert result.sessions == []
    assert len(result.errors) == 1
