"""A cohort's attendance as a picture and a workbook, for organisers to forward.

The chart stacks, per held session, how many trainees were present, late, absent, excused
or not marked, labelled in the reader's language. The workbook has a sheet per session and
one per trainee (with who is below the programme's rule), every text cell neutralised.
"""

from __future__ import annotations

from bot.i18n import gettext as _
from bot.i18n import use_locale
from bot.services import charts, spreadsheets
from bot.services.attendance.report import AttendanceReport

#: Sessions drawn at most (the latest ones); a programme rarely holds more in a chart's width.
MAX_CHART_SESSIONS = 30


def _share(value: float | None) -> float | str:
    return "" if value is None else round(value, 4)


def chart_png(report: AttendanceReport, locale: str) -> bytes | None:
    """Attendance per held session, stacked by mark (None while nothing was held)."""
    rows = report.sessions[-MAX_CHART_SESSIONS:]
    if not rows:
        return None
    with use_locale(locale):
        series = {
            _("present"): [float(row.present) for row in rows],
            _("late"): [float(row.late) for row in rows],
            _("absent"): [float(row.absent) for row in rows],
            _("excused"): [float(row.excused) for row in rows],
            _("not marked"): [float(row.unmarked) for row in rows],
        }
        title = _("Attendance of {cohort} (rule: {share:.0%})").format(
            cohort=report.cohort_code, share=report.min_share
        )
        return charts.stacked_bars(
            title,
            [row.label for row in rows],
            series,
            locale=locale,
            value_label=_("trainees"),
        )


def to_xlsx(report: AttendanceReport, locale: str = "en") -> bytes:
    """The report as a workbook: sessions, trainees (below the rule flagged)."""
    with use_locale(locale):
        sessions = (
            [
                _("session"),
                _("starts (UTC)"),
                _("present"),
                _("late"),
                _("absent"),
                _("excused"),
                _("not marked"),
                _("share attended"),
            ],
            [
                [
                    row.label,
                    row.starts_at.strftime("%Y-%m-%d %H:%M"),
                    row.present,
                    row.late,
                    row.absent,
                    row.excused,
                    row.unmarked,
                    _share(row.share),
                ]
                for row in report.sessions
            ],
        )
        trainees = (
            [_("trainee"), _("attended"), _("held"), _("share"), _("below the rule")],
            [
                [
                    row.name,
                    row.attended,
                    row.held,
                    _share(row.share),
                    _("yes") if row.below_threshold else "",
                ]
                for row in report.trainees
            ],
        )
        return spreadsheets.write_workbook({_("Sessions"): sessions, _("Trainees"): trainees})
