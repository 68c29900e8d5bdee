"""The completion table of a cohort: who is at risk first, then who has not met the rule,
then who completed; as text (Telegram, the command line), JSON and a workbook."""

from __future__ import annotations

from typing import Any

from bot.i18n import gettext as _
from bot.markup import h
from bot.services.completion.standings import CohortCompletion, Part, Standing
from bot.services.spreadsheets import Cell, write_workbook

#: The most a Telegram message holds.
MESSAGE_LIMIT = 4096


def ordered(standings: list[Standing]) -> list[Standing]:
    """At risk first, then not (yet) completed, then completed; by name within each."""
    return sorted(
        standings,
        key=lambda s: (0 if s.at_risk else 1 if not s.completed else 2, s.name.casefold()),
    )


def percent(share: float | None) -> str:
    """A share as a percentage; "—" when there is nothing to count."""
    return "—" if share is None else f"{share:.0%}"


def part_label(part: Part) -> str:
    """The part's name in the current locale."""
    if part.name == "attendance":
        return _("Attendance")
    if part.name == "forms":
        return _("Feedback forms")
    if part.name == "quizzes":
        return _("Quizzes")
    return _("Session {name}").format(name=part.name.removeprefix("session:"))


def part_figure(part: Part) -> str:
    """The trainee's figure against the threshold: "75% / 80%", or attended / not yet."""
    if part.required is None:
        if part.actual is None:
            return _("not held yet")
        return _("attended") if part.met else _("missed")
    return f"{percent(part.actual)} / {percent(part.required)}"


def mark(part: Part, ended: bool) -> str:
    """✅ met, ⚠️ falling behind (or missed), ⏳ not yet."""
    if part.met:
        return "✅"
    if part.behind or ended:
        return "⚠️"
    return "⏳"


def verdict_label(standing: Standing, ended: bool) -> str:
    """Completed, by exception, not completed, at risk or in progress."""
    if standing.exception is not None:
        return _("completed (exception)")
    if standing.completed:
        return _("completed")
    if ended:
        return _("not completed")
    return _("at risk") if standing.at_risk else _("in progress")


def rule_text(table: CohortCompletion) -> str:
    """The rule in one line."""
    rules = table.rules
    parts = [_("attendance {share}").format(share=percent(rules.min_attendance))]
    if rules.forms is not None:
        parts.append(
            _("all feedback forms")
            if rules.forms >= 1
            else _("feedback forms {share}").format(share=percent(rules.forms))
        )
    if rules.min_quiz_score is not None:
        parts.append(_("quiz score {share}").format(share=percent(rules.min_quiz_score)))
    parts += [_("session {name}").format(name=name) for name in rules.required_sessions]
    return ", ".join(parts)


def problems(table: CohortCompletion) -> list[str]:
    """What is wrong with the rule for this cohort."""
    return [
        _("Required session {name!r} matches no session of the cohort's timetable.").format(
            name=name
        )
        for name in table.unmatched
    ]


def table_lines(table: CohortCompletion, *, html: bool = True) -> list[str]:
    """The table as lines: the heading, problems, then one line per trainee."""
    esc = h if html else str
    standings = ordered(table.standings)
    done = sum(1 for s in standings if s.completed)
    risk = sum(1 for s in standings if s.at_risk)
    lines = [
        _("Completion of {cohort}: {done} of {count} completed, {risk} at risk.").format(
            cohort=esc(table.cohort.code), done=done, count=len(standings), risk=risk
        ),
        _("Rule: {rule}.").format(rule=esc(rule_text(table))),
    ]
    if table.ended:
        lines.append(_("The cohort has ended."))
    lines += ["⚠️ " + esc(problem) for problem in problems(table)]
    if not standings:
        lines.append(_("No active trainee."))
    for standing in standings:
        figures = "; ".join(
            f"{mark(p, table.ended)} {part_label(p)} {part_figure(p)}" for p in standing.parts
        )
        line = f"• {esc(standing.name)} — {verdict_label(standing, table.ended)}: {esc(figures)}"
        if standing.exception is not None:
            line += " (" + esc(standing.exception) + ")"
        lines.append(line)
    return lines


def fit_message(lines: list[str], limit: int = MESSAGE_LIMIT) -> str:
    """The lines in one message, whole lines only, the rest counted "…and N more"."""
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        rest = len(lines) - index
        tail = "\n" + _("…and {count} more").format(count=rest)
        if used + len(line) + 1 + len(tail) > limit and index < len(lines):
            kept.append(tail.lstrip("\n"))
            break
        kept.append(line[: limit - len(tail) - 1])
        used += len(kept[-1]) + 1
    return "\n".join(kept)


def to_json(table: CohortCompletion) -> dict[str, Any]:
    """The table as JSON-ready data."""
    return {
        "cohort": table.cohort.code,
        "programme": table.programme.code,
        "ends_at": table.ends_at.isoformat() if table.ends_at else None,
        "ended": table.ended,
        "rule": {
            "min_attendance": table.rules.min_attendance,
            "forms": table.rules.forms,
            "min_quiz_score": table.rules.min_quiz_score,
            "required_sessions": list(table.rules.required_sessions),
        },
        "problems": problems(table),
        "trainees": [
            {
                "user_id": s.user_id,
                "enrolment_id": s.enrolment_id,
                "name": s.name,
                "completed": s.completed,
                "at_risk": s.at_risk,
                "exception": s.exception,
                "parts": [
                    {
                        "name": p.name,
                        "required": p.required,
                        "actual": p.actual,
                        "met": p.met,
                        "still_possible": p.still_possible,
                    }
                    for p in s.parts
                ],
            }
            for s in ordered(table.standings)
        ],
    }


def workbook(table: CohortCompletion) -> bytes:
    """One row per trainee, a column per part, the verdict and the exception's reason."""
    standings = ordered(table.standings)
    names = [p.name for p in standings[0].parts] if standings else []
    labels = [part_label(p) for p in standings[0].parts] if standings else []
    header = [_("Name"), _("Telegram id"), *labels, _("Verdict"), _("Exception")]
    rows: list[list[Cell]] = []
    for standing in standings:
        by_name = {p.name: p for p in standing.parts}
        cells: list[Cell] = [standing.name, standing.user_id]
        for name in names:
            part = by_name[name]
            cells.append(part_figure(part) if part.required is None else part.actual)
        cells += [verdict_label(standing, table.ended), standing.exception or ""]
        rows.append(cells)
    return write_workbook({_("Completion"): (header, rows)})
