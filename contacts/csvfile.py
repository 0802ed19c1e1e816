"""The one CSV reader of the project: strict, line-numbered, whole file first.

Every command that takes a CSV file reads it here, so every one refuses the same bad
input the same way:
  - the file must be UTF-8 (a byte order mark is fine); a bad byte is reported with its
    line before anything is done with the rest;
  - a quote opened and never closed is an error naming the line where it opened, and a
    quoted cell may not run over several lines (in a dealer list that is a stray quote
    swallowing the rows after it, never a real value);
  - a NUL byte is refused (a UTF-16 or binary file saved with a .csv name).
File-wide problems raise CsvFileError; a problem with one row comes back as that row's
`problem`, so the caller can report every bad row at once.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path


class CsvFileError(ValueError):
    """The file as a whole cannot be read; the message says why (and where)."""


@dataclass
class CsvRow:
    line: int  # where the row starts in the file, counting from 1
    cells: list[str] = field(default_factory=list)
    problem: str = ""  # why the row cannot be used, or ""


@dataclass
class CsvTable:
    header: list[str]
    header_line: int
    rows: list[CsvRow]


def read_text(path: Path) -> str:
    """The file's text; CsvFileError if it is missing, unreadable or not UTF-8."""
    if not path.is_file():
        raise CsvFileError("no such file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CsvFileError(f"cannot read it ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CsvFileError(
            f"line {line}: not UTF-8 text (byte 0x{data[exc.start]:02X}); save the spreadsheet as \"CSV UTF-8\""
        ) from None


def parse(text: str) -> CsvTable:
    """Split text into a header and rows, strictly. Blank rows are left out."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[CsvRow] = []
    header: list[str] | None = None
    header_line = 0
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            message = str(exc)
            if "unexpected end of data" in message or "EOF" in message:
                raise CsvFileError(
                    f"line {start}: a quote opened here is never closed (an unbalanced \" in a cell?)"
                ) from None
            if "expected after" in message:
                raise CsvFileError(
                    f"line {start}: a quoted cell opened here is followed by more text after its closing quote "
                    f"(line {reader.line_num}); an unbalanced \" in a cell?"
                ) from None
            if "NUL" in message:
                raise CsvFileError(f"line {start}: contains a NUL byte (is the file UTF-16, or not a CSV?)") from None
            raise CsvFileError(f"line {start}: not readable as CSV ({message})") from None
        end = reader.line_num
        problem = ""
        if any("\x00" in cell for cell in cells):
            problem = "contains a NUL byte (is the file UTF-16, or not a CSV?)"
        elif end > start and any("\n" in cell or "\r" in cell for cell in cells):
            problem = (
                f"a quoted cell runs from line {start} to line {end}; cells must be on one line "
                "(an unbalanced \" that swallowed the rows after it?)"
            )
        if header is None:
            if problem:
                raise CsvFileError(f"line {start}: the header row {problem}")
            if not any(cell.strip() for cell in cells):
                continue
            header, header_line = cells, start
            continue
        if not problem and not any(cell.strip() for cell in cells):
            continue
        rows.append(CsvRow(start, cells, problem))
    return CsvTable(header or [], header_line, rows)


def read_csv(path: Path) -> CsvTable:
    return parse(read_text(path))
