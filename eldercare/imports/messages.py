"""What an import says is wrong, in Chinese and English: one problem per bad cell, row or file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# code: (Chinese, English); {name} fields come from the problem's params
MESSAGES: dict[str, tuple[str, str]] = {
    "unsupported_file": (
        "不支持的文件类型 {name}：请上传 .xlsx 或 .csv 文件",
        "{name} is not a spreadsheet this import reads: upload an .xlsx or a .csv file",
    ),
    "bad_encoding": (
        "无法识别文件编码：CSV 文件须为 UTF-8（可带 BOM）或 GBK 编码；请在表格软件中另存为“CSV UTF-8”",
        "the file's encoding is not recognised: a CSV must be UTF-8 (with or without BOM) or GBK; "
        "save it again as 'CSV UTF-8'",
    ),
    "bad_xlsx": (
        "文件不是有效的 .xlsx 工作簿，可能已损坏；请用表格软件重新保存",
        "the file is not a readable .xlsx workbook (damaged?); save it again from the spreadsheet program",
    ),
    "empty_file": (
        "文件为空：第一行应为表头，之后每行一条记录",
        "the file is empty: row 1 is the header, one record a row",
    ),
    "too_many_rows": (
        "文件有 {rows} 行，超过每次 {max} 行的上限；请分成几个文件导入",
        "the file has {rows} rows, more than {max} in one import; split it into several files",
    ),
    "missing_column": (
        "缺少必填列“{header}”；请使用模板的表头",
        "the required column '{header}' is missing; use the template's header",
    ),
    "unknown_column": (
        "无法识别的列“{given}”；可用的列：{known}",
        "unknown column '{given}'; the columns are: {known}",
    ),
    "repeated_column": ("列“{given}”出现了两次", "column '{given}' appears twice"),
    "required": ("必填项为空", "this cell must not be empty"),
    "not_number": ("“{value}”不是数字", "{value!r} is not a number"),
    "not_whole": ("“{value}”不是整数", "{value!r} is not a whole number"),
    "not_date": ("“{value}”不是日期；请写成 2024-03-01", "{value!r} is not a date; write it as 2024-03-01"),
    "not_choice": ("“{value}”不是可选值；可选：{choices}", "{value!r} is not one of: {choices}"),
    "not_yes_no": ("“{value}”应为 是 或 否", "{value!r} should be yes or no"),
    "bad_item": ("“{value}”格式不对；应为 {expected}", "{value!r} is not in the form {expected}"),
    "duplicate_in_file": (
        "与第 {other} 行重复（{what}）；每条记录只列一次",
        "the same {what} as row {other}; list each record once",
    ),
    "outside_city": (
        "坐标 {lat}, {lon} 不在本市范围内（北纬 {south}-{north}，东经 {west}-{east}）；请核对坐标",
        "{lat}, {lon} lies outside the city ({south}-{north} N, {west}-{east} E); check the coordinates",
    ),
    "half_location": ("纬度和经度须同时填写", "give both latitude and longitude, or neither"),
    "identity_conflict": (
        "该身份证号已登记为 {registered}（{code}），本行姓名为 {given}；请核对身份证号，或先在档案中修改姓名",
        "this ID number is registered to {registered} ({code}), the row says {given}; check the ID number, "
        "or change the name in the register first",
    ),
    "device_type_conflict": (
        "序列号 {serial} 已登记为 {registered} 类型的设备 {device}，本行为 {given}；请核对序列号",
        "serial {serial} is registered as a {registered}, device {device}; the row says {given}: check the serial",
    ),
    "unknown_elder": (
        "未找到身份证号为 {value} 的老人；请先导入或登记该老人",
        "no elder with ID number {value} is registered; import or register the elder first",
    ),
    "unknown_provider": (
        "未找到服务商“{value}”；请先导入服务商，或填写其编号",
        "no provider {value!r}; import the provider first, or give its code",
    ),
    "unknown_place": ("{detail}", "{detail}"),
    "invalid": ("{detail}", "{detail}"),
}


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
        zh, en = MESSAGES[self.code]
        return (zh if language == "zh" else en).format(**self.params)


class ImportFailed(Exception):
    """The file cannot be read as a table of this kind; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.text("en") for p in problems))
