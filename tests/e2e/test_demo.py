"""The terminal demo, driven as a newcomer would: typed lines, numbered buttons, Ctrl-D."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.demo_seed import (
    DEFAULT_EXAMPLES,
    MoveError,
    describe_duration,
    move_next_session,
    parse_duration,
)


def _run_demo(tmp_path: Path, typed: list[str]) -> tuple[str, list[str]]:
    """The demo's whole output, and what it showed after each typed line (in order)."""
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    env["LOG_LEVEL"] = "WARNING"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--database", str(tmp_path / "demo.db")],
        input="".join(f"{line}\n" for line in typed),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout
    assert out.rstrip().endswith("Demo ended.")
    # Piped input is not echoed by a terminal, so the demo prints each line after its prompt.
    starts = []
    position = 0
    for line in typed:
        position = out.index(f"> {line}\n", position)
        starts.append(position)
        position += 1
    ends = [*starts[1:], len(out)]
    return out, [out[start:end] for start, end in zip(starts, ends, strict=True)]


def test_demo_chat_in_the_terminal(tmp_path: Path) -> None:
    out, _shown = _run_demo(
        tmp_path, ["/start", "2", "Kampala", "1", "/settings", "9", ":help", ":wait 30m"]
    )
    assert "Welcome, Amina!" in out
    assert "[2] 🕒 Time zone" in out
    assert "Kampala (Uganda)" in out
    assert "Saved: Kampala (Uganda)" in out
    assert "Time zone: Africa/Kampala" in out
    assert "(there is no button 9)" in out
    assert "Demo commands:" in out
    # Someone who never registered is reminded of nothing.
    assert "(no message was due in that time)" in out


def test_demo_walkthrough_register_wait_and_move_a_session(tmp_path: Path) -> None:
    out, shown = _run_demo(
        tmp_path,
        [
            ":time",
            ":trainees",
            ":register 1",
            "1",
            ":wait 2h",
            ":move-next 1h",
            "1",
            ":trainee",
            "/next",
        ],
    )
    now, listing, asked, welcomed, waited, preview, confirmed, _back, upcoming = shown
    # What was seeded, and where time stands.
    assert "programme DIGITRADE-2027: Seminar on Digital Trade for Developing Countries" in out
    assert "cohort DT27-A, Cohort A (nominated): 40 trainees (roster.csv)" in out
    assert "20 sessions (timetable.csv)" in out
    assert "Demo time: Sun 7 Mar 2027, 09:00 UTC (17:00 in Asia/Shanghai)." in now
    assert "Next session: Opening Ceremony and Programme Briefing" in now
    assert "in 1 day 2 hours." in now

    assert (
        " 1. Amina Nakato, Ministry of Trade Industry and Cooperatives, Uganda (reads English)"
        in listing
    )
    assert "40. Juan Carlos Mendoza Ríos" in listing

    # Registering through the personal link: the question, Yes, the welcome.
    assert "Amina> /start " in asked
    assert (
        "bot> Are you Amina Nakato, Ministry of Trade Industry and Cooperatives, Uganda?" in asked
    )
    assert "[1] ✅ Yes, it is me" in asked
    assert "[2] No" in asked
    assert "Thank you, you are registered." in welcomed
    assert "Welcome to Cohort A (nominated)!" in welcomed
    assert "I set your time zone to Kampala (Uganda)" in welcomed

    # Two hours later the day-before reminder arrives, in the trainee's clock.
    assert "Demo time: Sun 7 Mar 2027, 11:00 UTC" in waited
    assert "bot> ⏰ Opening Ceremony and Programme Briefing" in waited
    assert "Mon 8 Mar, 19:00 Shanghai / 14:00 your time" in waited
    assert "Starts in 1 day." in waited

    # The organiser sends the timetable with the session an hour later, and confirms.
    assert "Now speaking as Li Na, an organiser." in preview
    assert "1 moved and 19 unchanged" in preview
    assert (
        "Moved: Opening Ceremony and Programme Briefing: 8 Mar 2027, 19:00 → 8 Mar 2027, 20:00"
        in preview
    )
    assert "[1] ✅ Confirm" in preview
    assert "✅ The timetable is updated." in confirmed
    assert "bot → Amina> 📢 Timetable change: Cohort A (nominated)" in confirmed
    assert (
        "• Moved: Opening Ceremony and Programme Briefing, from Mon 8 Mar, 19:00 Shanghai / "
        "14:00 your time to Mon 8 Mar, 20:00 Shanghai / 15:00 your time"
    ) in confirmed

    # Back in the trainee's chat, the bot knows the new time.
    assert "Opening Ceremony and Programme Briefing" in upcoming
    assert "20:00 Shanghai / 15:00 your time" in upcoming


def test_the_organisers_copy_moves_only_the_next_session() -> None:
    sample = (DEFAULT_EXAMPLES / "timetable.csv").read_bytes()
    now = datetime(2027, 3, 8, 12, 0, tzinfo=UTC)  # after the first session began
    moved = move_next_session(sample, "Asia/Shanghai", now, timedelta(minutes=-30))
    assert moved.title == "China's Digital Economy: Policies and Practice"
    assert moved.new_start - moved.old_start == timedelta(minutes=-30)
    before, after = sample.decode().splitlines(), moved.content.decode().splitlines()
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert changed == [
        (
            "2027-03-09,19:00,21:00,China's Digital Economy: Policies and Practice,Prof. Li Ming,"
            "lecture,https://www.eeo.cn/live.php?lessonKey=dt27002",
            "2027-03-09,18:30,20:30,China's Digital Economy: Policies and Practice,Prof. Li Ming,"
            "lecture,https://www.eeo.cn/live.php?lessonKey=dt27002",
        )
    ]
    with pytest.raises(MoveError, match="past midnight"):
        move_next_session(sample, "Asia/Shanghai", now, timedelta(hours=4))
    with pytest.raises(MoveError, match="in the past"):
        move_next_session(sample, "Asia/Shanghai", now, timedelta(days=-2))


def test_durations_typed_in_the_demo() -> None:
    assert parse_duration("30m") == timedelta(minutes=30)
    assert parse_duration("1d 2h") == timedelta(days=1, hours=2)
    assert parse_duration("90") == timedelta(minutes=90)
    assert parse_duration("-30m", signed=True) == timedelta(minutes=-30)
    assert parse_duration("-30m") is None
    assert parse_duration("soon") is None
    assert describe_duration(timedelta(days=1, hours=2)) == "1 day 2 hours"


def test_demo_faq_answers_in_arabic_and_the_staff_group_answers_the_rest(tmp_path: Path) -> None:
    out, shown = _run_demo(
        tmp_path,
        [
            ":register 8",
            "1",
            "كيف انضم الى classin",
            "what will the weather be like tomorrow",
            ":staff It will be sunny, 24 degrees.",
        ],
    )
    _asked, _welcomed, answered, escalated, replied = shown
    assert "FAQ: 15 questions and answers (faq.yaml)" in out
    # The Arabic answer of the FAQ's entry on joining ClassIn.
    assert "ثبّت تطبيق ClassIn" in answered
    # The weather is not in the FAQ: the staff group's topic of the trainee gets it.
    assert "Question from Mohamed Abdelrahman Hassan" in escalated
    assert "what will the weather be like tomorrow" in escalated
    assert "It will be sunny, 24 degrees." in replied


def test_demo_feedback_attendance_and_progress(tmp_path: Path) -> None:
    out, shown = _run_demo(
        tmp_path,
        [
            ":register 1",
            "1",
            ":register 3",
            "1",
            ":wait 2d5h",
            ":register 1",
            "/feedback",
            "1",
            "4",
            "9",
            "2",
            "2",
            "5",
            "More case studies from Africa, please",
            ":wait 14h",
            ":admin",
            "/results DT27-A",
            "/attendance DT27-A",
            "3",
            ":classroom",
            ":register 1",
            "/progress",
        ],
    )
    assert "feedback forms (feedback.yaml): " in out
    waited = shown[4]
    # The lecture of 9 March ended at 21:00 in Beijing: its form came 15 minutes later, in
    # each trainee's language.
    assert "bot → Amina> 📝 " in waited
    assert "About: China's Digital Economy: Policies and Practice" in waited
    assert "bot> 📝 " in waited  # Aigerim's own chat, in Russian
    assert "О занятии: China's Digital Economy" in waited
    assert "[1] ▶ Start" in waited
    started, rated = shown[7], shown[8]
    assert "1 of 5" in started
    assert "[5] 5 ⭐" in started
    assert "bot (edited)> " in rated
    assert "2 of 5" in rated
    thanked = shown[13]
    assert "Thank you! Your answers to" in thanked
    assert "More case studies from Africa, please" in thanked
    # Aigerim did not answer: the next morning she is reminded; Amina is not.
    nudged = shown[14]
    assert "bot → Aigerim> 🔔" in nudged
    assert "Amina> 🔔" not in nudged
    assert "bot> 🔔" not in nudged
    # The organiser's results: the text and a chart.
    results = shown[16]
    assert "1 of 2" in results
    assert "[picture: a chart]" in results
    # The trainer's sheet, everyone present pressed.
    marked = shown[18]
    assert "Amina Nakato" in marked
    assert "2 present" in marked
    # The classroom's report: Aigerim and Amina were there, a guest matched nobody.
    imported = shown[19]
    assert "attendance import zoom-participants-" in imported
    assert "Guest (iPhone)" in imported
    progress = shown[21]
    assert "Your progress" in progress
    assert "Feedback forms: 1 of 1 answered" in progress


def test_demo_quiz_completion_certificate_and_verification(tmp_path: Path) -> None:
    from pypdf import PdfReader

    out, shown = _run_demo(
        tmp_path,
        [
            ":register 1",
            "1",
            ":wait 2d6h",
            ":vote 3",
            ":vote 1",
            "/quiz",
            ":admin",
            "/completion DT27-A",
            "/completion_except DT27-A Amina Nakato | followed the recordings",
            ":certificates",
            ":verify",
        ],
    )
    _reg, _yes, waited, first, second, quizzes, _admin, table, excepted, issued, verified = shown
    assert "quizzes (quiz.yaml): Check: China's digital economy" in out
    # The quiz after the lecture arrives as Telegram quiz polls, one question at a time.
    assert "🧠 Check: China's digital economy" in waited
    assert "[quiz poll] 1/2 Which share of China's GDP" in waited
    assert ":vote 3  About 42%" in waited
    assert "[quiz poll] 2/2" in first
    assert "done. Your score: 3 / 3." in second
    assert "✅ Check: China's digital economy: 3 / 3" in quizzes
    # Nobody completed yet; the organiser records an exception, then issues.
    assert "0 of 1 completed, 1 at risk" in table
    assert "Session Opening Ceremony and Programme Briefing missed" in table
    assert "completes DT27-A by exception: followed the recordings" in excepted
    assert "Issued 1 certificate for DT27-A; 1 queued to send." in issued
    assert "bot → Amina> [file: certificate-DT27-A-" in issued
    # Anyone checks it with the link of its QR code.
    assert "Holder: Amina Nakato" in verified
    assert "Status: valid" in verified
    [pdf] = list(tmp_path.glob("certificate-*.pdf"))
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Amina Nakato" in text
    assert "Seminar on Digital Trade" in text
