"""What an import says is wrong, in Chinese and English: one problem per bad cell, row or file."""

from __future__ import annotations

import gettext
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from eldercare.i18n import N_, translations

# code -> English text (the gettext message id; Chinese in eldercare/locale); %(name)s from the params
MESSAGES: dict[str, str] = {
    "unsupported_file": N_("%(name)s is not a spreadsheet this import reads: upload an .xlsx or a .csv file"),
    "bad_encoding": N_(
        "the file's encoding is not recognised: a CSV must be UTF-8 (with or without BOM) or GBK; "
        "save it again as 'CSV UTF-8'"
    ),
    "bad_xlsx": N_("the file is not a readable .xlsx workbook (damaged?); save it again from the spreadsheet program"),
    "bad_csv": N_(
        "the file cannot be read as CSV: a cell from this row on runs over %(max)s characters (a quotation mark "
        "not closed?); check the row and save the file again as 'CSV UTF-8'"
    ),
    "empty_file": N_("the file is empty: row 1 is the header, one record a row"),
    "too_many_rows": N_("the file has more than %(max)s rows, too many for one import; split it into several files"),
    "missing_column": N_("the required column '%(header)s' is missing; use the template's header"),
    "unknown_column": N_("unknown column '%(given)s'; the columns are: %(known)s"),
    "repeated_column": N_("column '%(given)s' appears twice"),
    "required": N_("this cell must not be empty"),
    "not_number": N_("'%(value)s' is not a number"),
    "not_whole": N_("'%(value)s' is not a whole number"),
    "not_date": N_("'%(value)s' is not a date; write it as 2024-03-01"),
    "not_choice": N_("'%(value)s' is not one of: %(choices)s"),
    "not_yes_no": N_("'%(value)s' should be yes or no"),
    "bad_item": N_("'%(value)s' is not in the form %(expected)s"),
    "duplicate_in_file": N_("the same %(what)s as row %(other)s; list each record once"),
    "outside_city": N_(
        "%(lat)s, %(lon)s lies outside the city (%(south)s-%(north)s N, %(west)s-%(east)s E); check the coordinates"
    ),
    "half_location": N_("give both latitude and longitude, or neither"),
    "identity_conflict": N_(
        "this ID number is registered to %(registered)s (%(code)s), the row says %(given)s; "
        "check the ID number, or change the name in the register first"
    ),
    "device_type_conflict": N_(
        "serial %(serial)s is registered as a %(registered)s, device %(device)s; "
        "the row says %(given)s: check the serial"
    ),
    "township_renamed": N_(
        "township code %(value)s already belongs to %(registered)s, the row says %(given)s; an import does not "
        "rename a township: correct the code or the name"
    ),
    "community_renamed": N_(
        "community code %(value)s already belongs to %(registered)s, the row says %(given)s; an import does not "
        "rename a community: correct the code or the name"
    ),
    "township_duplicated": N_(
        "township %(given)s is registered already under code %(registered)s, the row gives code %(value)s; an "
        "import does not make a second township of one name: give code %(registered)s or leave the code empty"
    ),
    "community_duplicated": N_(
        "community %(given)s is registered in %(township)s already under code %(registered)s, the row gives code "
        "%(value)s; an import does not make a second community of one name in a township: give code "
        "%(registered)s or leave the code empty"
    ),
    "community_moved": N_(
        "community code %(value)s already belongs to %(registered)s in %(township)s, the row puts it in %(given)s; "
        "an import does not move a community to another township: correct the code or the township"
    ),
    "unknown_elder": N_("no elder with ID number %(value)s is registered; import or register the elder first"),
    "unknown_provider": N_("no provider '%(value)s'; import the provider first, or give its code"),
    # the register's own words, as it gave them
    "invalid": "%(detail)s",
}


@runtime_checkable
class Worded(Protocol):
    """A detail said in the reader's language: a sentence of the catalogue (``Message``), a register's problem."""

    def words(self, translations: gettext.NullTranslations) -> str: ...


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong: where (a column key of the kind, or ``file``), what (a MESSAGES code) and the details."""

    column: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    row: int | None = None

    def at(self, row: int) -> Problem:
        return Problem(self.column, self.code, self.params, row)

    def text(self, language: str) -> str:
        """What is wrong in ``language``; a detail that is a sentence of the catalogue (the register's or the
        roster's refusal) in that language too."""
        reader = translations(language)
        shown = {k: v.words(reader) if isinstance(v, Worded) else v for k, v in self.params.items()}
        return reader.gettext(MESSAGES[self.code]) % shown


class ImportFailed(Exception):
    """The file cannot be read as a table of this kind; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.text("en") for p in problems))
