"""Write ojk_15th_projects.xlsx from ojk_15th_projects.txt (the same projects, one sheet 「重大项目」).

Run from anywhere with the project's interpreter:

    /work/main/.venv/bin/python tests/data/fifteenth/make_xlsx.py

Layout of the sheet, as a spreadsheet copy of the plan's table would hold it:
row 1 the 附件 title (one cell), row 2 the header row (once: the text's repeated header rows at
page breaks and its blank lines are dropped, and so is the list heading 一、重大项目清单, which the
sheet title names), then category heading rows (one cell), data rows, 小计 rows and the 合计 row in
the text's order. 序号, money cells that are plain numbers and one-year periods (2027) are
numbers; 待定, 约 30, 2024-2027 and every other cell stay text; empty cells are left empty.
Cell values are written as printed (no formulas), so the wrongly printed 小计 stays wrong.
"""
import re
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "ojk_15th_projects.txt"
TARGET = HERE / "ojk_15th_projects.xlsx"
SHEET = "重大项目"
NUMBER = re.compile(r"\d+(\.\d+)?")


def as_number(text):
    return int(text) if text.isdigit() else float(text)


def sheet_rows(lines):
    start = next(i for i, line in enumerate(lines) if line.startswith("附件："))
    rows = [[lines[start].strip()]]
    header = None
    money_cols = period_cols = ()
    for line in lines[start + 1:]:
        if not line.strip() or "\t" not in line:  # blank lines, the list heading
            continue
        cells = line.split("\t")
        if cells[0].strip() == "序号":
            if header is None:
                header = cells
                money_cols = [i for i, h in enumerate(header) if "总投资" in h or "投资" in h]
                period_cols = [i for i, h in enumerate(header) if h in ("建设期限", "建设年限")]
                rows.append(cells)
            continue
        if cells[0].strip() and not any(c.strip() for c in cells[1:]):  # category heading
            rows.append([cells[0].strip()])
            continue
        row = [c.strip() for c in cells]
        if row[0].isdigit():
            row[0] = int(row[0])
        for i in money_cols:
            if i < len(row) and NUMBER.fullmatch(row[i]):
                row[i] = as_number(row[i])
        for i in period_cols:
            if i < len(row) and re.fullmatch(r"\d{4}", row[i]):
                row[i] = int(row[i])
        rows.append([None if c == "" else c for c in row])
    return rows


def main():
    lines = SOURCE.read_text(encoding="utf-8").splitlines()
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    for row in sheet_rows(lines):
        sheet.append(row)
    book.save(TARGET)
    print(f"{TARGET.name}: {sheet.max_row} rows")


if __name__ == "__main__":
    main()
