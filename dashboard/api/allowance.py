"""``/api/v1/allowance-check``: the age-allowance roll (高龄津贴) checked against the register; nothing is written."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from dashboard import i18n
from dashboard.api.insights import local_today
from dashboard.auth import Actor
from dashboard.errors import Invalid
from dashboard.runtime import Pool, RuntimeDep
from eldercare import allowance_check
from eldercare.labels import Message

router = APIRouter(tags=["allowance check"])


class FindingOut(BaseModel):
    kind: str = Field(description=", ".join(allowance_check.KINDS))
    line: int | None = Field(description="the roll's line (the header is line 1)")
    resident_id: str | None = Field(description="masked")
    name: str
    elder_id: int | None
    detail: str = Field(description="what is wrong with the row, in the reader's language")


class AllowanceCheck(BaseModel):
    rows: int
    findings: list[FindingOut]


@router.post("/allowance-check", response_model=AllowanceCheck, responses={422: {"description": "unreadable roll"}})
async def check_roll(
    request: Request,
    principal: Actor,
    pool: Pool,
    runtime: RuntimeDep,
    roll: Annotated[UploadFile, File(description="the roll as .xlsx or .csv with 身份证号, 姓名, 金额 columns")],
    age: Annotated[int, Form(ge=60, le=120, description="the allowance's age threshold")] = 80,
    silent_days: Annotated[int, Form(ge=1, le=3650, description="no sign of life for this many days")] = 30,
) -> AllowanceCheck:
    """Unknown ID numbers, duplicates, deceased or moved elders still on the roll, elders under the age, and elders
    with no sign of life from devices or services for ``silent_days`` (to visit, not a verdict)."""
    content = await roll.read()
    name = roll.filename or "roll.csv"
    reader = i18n.for_request(request)

    def out(finding: allowance_check.Finding) -> FindingOut:
        detail = finding.detail.words(reader) if isinstance(finding.detail, Message) else finding.detail
        return FindingOut(**{k: getattr(finding, k) for k in FindingOut.model_fields if k != "detail"}, detail=detail)

    def work() -> AllowanceCheck:
        try:
            parsed = allowance_check.read_roll(content, name)
        except allowance_check.RollError as err:
            raise Invalid(*err.args) from err
        with pool.connection() as conn:
            found = allowance_check.check(conn, parsed, local_today(runtime), age=age, silent_days=silent_days)
        return AllowanceCheck(
            rows=len(parsed.rows) + len(parsed.bad),
            findings=[out(f) for f in found],
        )

    return await run_in_threadpool(work)
