"""The columns of an import kind, the matching of a file's header to them, and the reading of one cell."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from eldercare.imports.messages import ImportFailed, Problem, Worded
from eldercare.labels import carried, failed
from eldercare.vocabulary import ServiceType

LIST_SEPARATORS = re.compile(r"[、,，;；/\n]+")


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a template: its key, its Chinese and English header, and a note for the person filling it."""

    key: str
    zh: str
    en: str
    required: bool = False
    note: str = ""
    example: str = ""

    def header(self, language: str) -> str:
        return self.zh if language == "zh" else self.en


class CellProblems(Exception):
    """Cells of one row that cannot be read; the row is not written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.column}: {p.text('en')}" for p in problems))


def _normal(header: str) -> str:
    return re.sub(r"[\s*＊_()（）]", "", header).lower()


def knows_any(columns: tuple[Column, ...], header: list[str]) -> bool:
    """Whether any cell of ``header`` names one of ``columns`` (else the file is likely mis-decoded)."""
    known = {_normal(h) for c in columns for h in (c.zh, c.en, c.key)}
    return any(_normal(given) in known for given in header)


def match_header(columns: tuple[Column, ...], header: list[str]) -> dict[str, int]:
    """Column key -> index in the file's header (Chinese or English headers, in any order), or ImportFailed
    naming every unknown, repeated or missing column."""
    known = {_normal(h): c.key for c in columns for h in (c.zh, c.en, c.key)}
    found: dict[str, int] = {}
    problems: list[Problem] = []
    for index, given in enumerate(header):
        if not given:
            continue
        key = known.get(_normal(given))
        if key is None:
            listed = "、".join(c.zh for c in columns)
            problems.append(Problem("file", "unknown_column", {"given": given, "known": listed}))
        elif key in found:
            problems.append(Problem("file", "repeated_column", {"given": given}))
        else:
            found[key] = index
    for column in columns:
        if column.required and column.key not in found:
            problems.append(Problem(column.key, "missing_column", {"header": f"{column.zh} / {column.en}"}))
    if problems:
        raise ImportFailed(problems)
    return found


class Row:
    """One row's cells by column key, read into values; every unreadable cell is noted, not raised at once."""

    def __init__(self, cells: Mapping[str, str]) -> None:
        self.cells = cells
        self.problems: list[Problem] = []

    def note(self, column: str, code: str, **params: object) -> None:
        self.problems.append(Problem(column, code, dict(params)))

    def check(self) -> None:
        """Raise CellProblems when any cell was unreadable."""
        if self.problems:
            raise CellProblems(self.problems)

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self.cells.get(key, "").strip()
        if not value:
            if required:
                self.note(key, "required")
            return None
        return value

    def number(self, key: str, *, required: bool = False) -> float | None:
        value = self.text(key, required=required)
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            self.note(key, "not_number", value=value)
            return None

    def whole(self, key: str, *, required: bool = False) -> int | None:
        value = self.text(key, required=required)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not number.is_integer():
            self.note(key, "not_whole", value=value)
            return None
        return int(number)

    def day(self, key: str, *, required: bool = False) -> date | None:
        value = self.text(key, required=required)
        return None if value is None else self.parse_day(key, value)

    def parse_day(self, key: str, value: str) -> date | None:
        match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+00:00(?::00)?)?", value)
        try:
            if match is None:
                raise ValueError(value)
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            self.note(key, "not_date", value=value)
            return None

    def choice(self, key: str, choices: Mapping[str, str], *, required: bool = False) -> str | None:
        """The code a cell names, by any of its names (``choices``: lower-cased name -> code)."""
        value = self.text(key, required=required)
        if value is None:
            return None
        code = choices.get(value.lower())
        if code is None:
            self.note(key, "not_choice", value=value, choices="、".join(dict.fromkeys(choices)))
        return code

    def choices(self, key: str, choices: Mapping[str, str], *, required: bool = False) -> list[str]:
        """The codes a list cell names (``助餐、助急``), each by any of its names; an unknown one is noted."""
        codes = []
        for item in self.items(key, required=required):
            code = choices.get(item.lower())
            if code is None:
                self.note(key, "not_choice", value=item, choices="、".join(dict.fromkeys(choices)))
            else:
                codes.append(code)
        return codes

    def items(self, key: str, *, required: bool = False) -> list[str]:
        value = self.text(key, required=required)
        return [] if value is None else [part.strip() for part in LIST_SEPARATORS.split(value) if part.strip()]

    def yes_no(self, key: str, default: bool) -> bool:
        value = self.text(key)
        if value is None:
            return default
        answer = YES_NO.get(value.lower())
        if answer is None:
            self.note(key, "not_yes_no", value=value)
            return default
        return answer


YES_NO = {"是": True, "否": False, "yes": True, "no": False, "y": True, "n": False, "1": True, "0": False}
YES_NO.update({"true": True, "false": False})


def names_of(pairs: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """lower-cased name -> code, from code -> (names...); the code is a name of itself."""
    out: dict[str, str] = {}
    for code, names in pairs.items():
        for name in (code, *names):
            out[name.lower()] = code
    return out


SERVICES = names_of(
    {
        ServiceType.MEAL: ("助餐",),
        ServiceType.CLEANING: ("助洁",),
        ServiceType.BATHING: ("助浴",),
        ServiceType.MEDICAL: ("助医",),
        ServiceType.MOBILITY: ("助行",),
        ServiceType.EMERGENCY: ("助急",),
        ServiceType.CARE: ("护理", "一护"),
    }
)
GENDERS = names_of({"M": ("男", "male"), "F": ("女", "female")})


def enum_names(enum: type[StrEnum], chinese: Mapping[str, str]) -> dict[str, str]:
    """Names of an enum's members: the code, and its Chinese name from ``chinese``."""
    return names_of({member.value: (chinese[member.value],) for member in enum})


def column_of(field: str, fields: Mapping[str, str], default: str) -> str:
    """The column a register's field path (``contacts.1.phone``) was read from: the longest known prefix."""
    parts = field.split(".")
    for end in range(len(parts), 0, -1):
        column = fields.get(".".join(parts[:end]))
        if column is not None:
            return column
    return default


def refused(problems: list[tuple[str, str | Worded]], fields: Mapping[str, str], default: str) -> CellProblems:
    """The register's (field, message) refusals as problems of the row's cells."""
    return CellProblems([Problem(column_of(f, fields, default), "invalid", {"detail": m}) for f, m in problems])


def validation_problems(error: Exception) -> list[tuple[str, str | Worded]]:
    """(field path, why) of a pydantic ValidationError, read in the reader's language (``labels.failed``)."""
    from pydantic import ValidationError

    assert isinstance(error, ValidationError)
    return [(check.field, check) for check in map(failed, error.errors())]


def said_by(error: Exception) -> str | Worded:
    """What a refusal says: the sentence of the catalogue it carries, else its text."""
    return carried(error) or str(error)
