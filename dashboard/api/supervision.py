"""``/api/v1/supervision``: spot-check plans and checks, rectifications, complaints, the circular, providers' credit."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Path, Query, Response, UploadFile
from pydantic import BaseModel, Field

from dashboard import supervision
from dashboard.auth import Actor, Administrator, Reader
from dashboard.exports import XLSX, download
from dashboard.runtime import Pool, RuntimeDep
from dashboard.scope import area_filtered, city_wide
from eldercare.db import ID_MAX, INT_MAX
from eldercare.supervision import checks, complaints, credit, queries
from eldercare.supervision.checks import CheckRecord, PlanInput
from eldercare.supervision.complaints import ComplaintInput

router = APIRouter(tags=["supervision"])
Id = Annotated[int, Path(ge=1, le=ID_MAX)]
Period = Annotated[Literal["week", "month"], Query()]
Day = Annotated[date | None, Query(ge=checks.FIRST_DAY, le=checks.LAST_DAY, description="any day of the period")]
Month = Annotated[str, Query(pattern=supervision.MONTH, description="YYYY-MM")]
CREDIT = "providers' credit is the bureau's, for every township alike"
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such record"},
    422: {"description": "refused, with the reason"},
}


class Planned(BaseModel):
    plan_id: int
    checks: int


class Recorded(BaseModel):
    rectifications: list[int] = Field(description="the rectifications its findings opened")


class Answer(BaseModel):
    answer: str = Field(min_length=1, max_length=2000)


class StandingDecision(BaseModel):
    standing: Literal["red", "normal", "black"]
    reason: str = Field(min_length=1, max_length=500)
    month: date | None = Field(None, description="the credit month the decision answers, if any")


@router.post("/supervision/plans", response_model=Planned, status_code=201, responses=ERRORS)
def create_plan(body: PlanInput, principal: Administrator, pool: Pool, runtime: RuntimeDep) -> Planned:
    """Set a period's spot checks for a level and draw them (the seed is recorded; give one to draw again alike)."""
    with pool.connection() as conn:
        plan_id = supervision.refusing(
            checks.create_plan, conn, body, principal.username, runtime.clock.now(), runtime.settings.timezone
        )
        count = conn.execute("SELECT count(*) FROM spot_check WHERE plan_id = %s", (plan_id,)).fetchone()
    return Planned(plan_id=plan_id, checks=int(count[0]) if count else 0)


@router.get("/supervision/checks", response_model=list[queries.Check])
@area_filtered
def list_checks(
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    period: Period = "week",
    day: Day = None,
    level: Annotated[Literal["city", "township", "community"] | None, Query()] = None,
) -> list[queries.Check]:
    """The period's checks in the account's area (of plans at ``level``, all when omitted), unrecorded first."""
    start, _ = checks.period_bounds(period, day or supervision.today(runtime))
    with pool.connection() as conn:
        found = queries.checks(conn, period, start, supervision.place(principal), level)
    return supervision.shown_checks(principal, found)


@router.get("/supervision/checks/{check_id}", response_model=queries.Check, responses=ERRORS)
def get_check(check_id: Id, principal: Reader, pool: Pool) -> queries.Check:
    with pool.connection() as conn:
        return supervision.shown_checks(principal, [supervision.one_check(conn, check_id)])[0]


@router.post("/supervision/checks/{check_id}/record", response_model=Recorded, responses=ERRORS)
def record_check(check_id: Id, body: CheckRecord, principal: Actor, pool: Pool, runtime: RuntimeDep) -> Recorded:
    """Fill in a check once; each finding opens a rectification for the provider with a deadline."""
    with pool.connection() as conn:
        opened = supervision.refusing(
            checks.record_check,
            conn,
            check_id,
            body,
            principal.username,
            runtime.clock.now(),
            runtime.dashboard.rectification_days,
        )
    return Recorded(rectifications=opened)


@router.post("/supervision/checks/{check_id}/photos", status_code=201, responses=ERRORS)
async def add_photo(check_id: Id, principal: Actor, pool: Pool, photo: Annotated[UploadFile, File()]) -> dict[str, int]:
    """A photo of a home visit: JPEG, PNG or WebP, at most 2 MiB."""
    content = await photo.read(checks.MAX_PHOTO_BYTES + 1)
    return {"photo_id": await supervision.add_photo(pool, check_id, photo.content_type or "", content)}


@router.get("/supervision/rectifications", response_model=list[queries.Rectification])
@area_filtered
def list_rectifications(principal: Reader, pool: Pool) -> list[queries.Rectification]:
    """Open rectifications (the nearest deadline first), then the latest closed, in the account's area."""
    with pool.connection() as conn:
        return queries.rectifications(conn, supervision.place(principal))


@router.post("/supervision/rectifications/{rectification_id}/answer", status_code=204, responses=ERRORS)
def answer_rectification(rectification_id: Id, body: Answer, principal: Actor, pool: Pool, runtime: RuntimeDep) -> None:
    """The provider's answer, which closes the rectification."""
    with pool.connection() as conn:
        supervision.refusing(
            checks.answer_rectification, conn, rectification_id, body.answer, principal.username, runtime.clock.now()
        )


@router.get("/supervision/complaints", response_model=list[queries.Complaint])
@area_filtered
def list_complaints(principal: Reader, pool: Pool) -> list[queries.Complaint]:
    with pool.connection() as conn:
        return queries.complaints(conn, supervision.place(principal))


@router.post("/supervision/complaints", status_code=201, responses=ERRORS)
def enter_complaint(body: ComplaintInput, principal: Actor, pool: Pool, runtime: RuntimeDep) -> dict[str, int]:
    """A complaint taken on the phone or at the desk (the provider: the order's, else the elder's latest)."""
    with pool.connection() as conn:
        return {
            "complaint_id": supervision.refusing(complaints.enter, conn, body, principal.username, runtime.clock.now())
        }


@router.post("/supervision/complaints/{complaint_id}/close", status_code=204, responses=ERRORS)
def close_complaint(complaint_id: Id, body: Answer, principal: Actor, pool: Pool, runtime: RuntimeDep) -> None:
    """Close a complaint with the provider's answer."""
    with pool.connection() as conn:
        supervision.refusing(complaints.close, conn, complaint_id, body.answer, principal.username, runtime.clock.now())


@router.get("/supervision/circular", response_model=list[queries.CircularRow])
@area_filtered
def circular(
    principal: Reader, pool: Pool, runtime: RuntimeDep, period: Period = "week", day: Day = None
) -> list[queries.CircularRow]:
    """The period's circular: per township and provider, checks against plan, findings, rectifications, complaints."""
    return supervision.circular(pool, runtime, principal, period, day)


@router.get("/supervision/circular.xlsx", response_class=Response, responses=supervision.XLSX_RESPONSE)
@area_filtered
def circular_xlsx(
    principal: Reader, pool: Pool, runtime: RuntimeDep, period: Period = "week", day: Day = None
) -> Response:
    """The circular as a spreadsheet."""
    rows = supervision.circular(pool, runtime, principal, period, day)
    start, _ = checks.period_bounds(period, day or supervision.today(runtime))
    return download(supervision.circular_xlsx(rows), XLSX, f"circular-{period}-{start.isoformat()}.xlsx")


def _month(text: str) -> date:
    return date(int(text[:4]), int(text[5:7]), 1)


@router.get("/supervision/credit", response_model=list[credit.Credit])
@city_wide(CREDIT)
def list_credit(principal: Reader, pool: Pool, month: Month) -> list[credit.Credit]:
    """Each provider's kept score of the month with the facts behind it, best first."""
    with pool.connection() as conn:
        return credit.credits(conn, _month(month))


@router.get("/supervision/credit.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
@city_wide(CREDIT)
def credit_csv(principal: Reader, pool: Pool, month: Month) -> Response:
    with pool.connection() as conn:
        _, text = supervision.credit_files(credit.credits(conn, _month(month)))
    return download(text, "text/csv; charset=utf-8", f"credit-{month}.csv")


@router.get("/supervision/credit.xlsx", response_class=Response, responses=supervision.XLSX_RESPONSE)
@city_wide(CREDIT)
def credit_xlsx(principal: Reader, pool: Pool, month: Month) -> Response:
    with pool.connection() as conn:
        book, _ = supervision.credit_files(credit.credits(conn, _month(month)))
    return download(book, XLSX, f"credit-{month}.xlsx")


@router.post("/supervision/credit/compute", response_model=list[credit.Credit])
@city_wide(CREDIT)
def compute_credit(principal: Administrator, pool: Pool, runtime: RuntimeDep, month: Month) -> list[credit.Credit]:
    """Score every active provider for the month from the measured facts (again: the scores are replaced)."""
    with pool.connection() as conn:
        return credit.compute(conn, _month(month), runtime.settings.timezone, runtime.clock.now())


@router.post("/providers/{provider_id}/standing", status_code=204, responses=ERRORS)
@city_wide("a provider's standing is decided by administrators")
def decide_standing(
    provider_id: Annotated[int, Path(ge=1, le=INT_MAX)],
    body: StandingDecision,
    principal: Administrator,
    pool: Pool,
    runtime: RuntimeDep,
) -> None:
    """Red list, normal or black list, with the reason; a black listing stops offers to the provider at once."""
    with pool.connection() as conn:
        supervision.refusing(
            credit.decide,
            conn,
            provider_id,
            body.standing,
            body.reason,
            principal.username,
            runtime.clock.now(),
            body.month,
        )
