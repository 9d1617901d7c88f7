"""What the supervision API and pages share: the account's place, refusals as HTTP answers, the circular's file."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool
from starlette.concurrency import run_in_threadpool

from dashboard.auth import Principal
from dashboard.errors import Invalid, NotFound
from dashboard.exports import csv_text, xlsx
from dashboard.paging import shown
from dashboard.runtime import Runtime
from eldercare.i18n import N_
from eldercare.labels import Message
from eldercare.supervision import checks, complaints, credit, queries
from eldercare.supervision.queries import FINDINGS

T = TypeVar("T")
MONTH = r"^(19|20)\d{2}-(0[1-9]|1[0-2])$"
XLSX_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}
}
CIRCULAR_HEADER = (
    "township",
    "provider",
    "checks planned",
    "checks done",
    *FINDINGS,
    "rectifications",
    "closed on time",
    "complaints",
)
CREDIT_HEADER = (
    "provider",
    "month",
    "score",
    "proposal",
    "standing",
    "acceptance",
    "punctuality",
    "satisfaction",
    "findings",
    "complaints",
    "verification exceptions",
    "offers answered",
    "arrivals",
    "reviews",
)


def refusing(action: Callable[..., T], *args: Any) -> T:
    """Run a supervision action; its refusals become the dashboard's 404 and 422 answers."""
    try:
        return action(*args)
    except (checks.NoSuchRecord, credit.NoSuchProvider, complaints.NoSuchComplaint) as err:
        raise NotFound(*err.args) from None
    except (checks.CheckRefused, complaints.ComplaintRefused, ValueError) as err:
        raise Invalid(*err.args) from None
    except psycopg.errors.ForeignKeyViolation as err:
        raise Invalid(_named_nothing(err.diag.message_detail or "")) from None


# PostgreSQL's detail of a foreign key violation: Key (township_id)=(999) is not present in table "township".
_KEY = re.compile(r"Key \((?P<field>[^)]+)\)=\((?P<value>[^)]*)\) is not present in table")


def _named_nothing(detail: str) -> Message:
    """What a record naming another that does not exist says: the field and the value given."""
    key = _KEY.match(detail)
    if key is None:
        return Message.of(N_("a record named does not exist: %(detail)s"), detail=detail)
    return Message.of(N_("%(field)s %(value)s names no record that exists"), field=key["field"], value=key["value"])


def today(runtime: Runtime) -> date:
    from zoneinfo import ZoneInfo

    return runtime.clock.now().astimezone(ZoneInfo(runtime.settings.timezone)).date()


def place(principal: Principal) -> queries.Place:
    area = principal.area
    return (area.township_id, area.community_id) if area else queries.CITY


def level(principal: Principal) -> str:
    """The level an account checks at: its area's, or the city's."""
    area = principal.area
    return "city" if area is None else ("community" if area.community_id is not None else "township")


def shown_checks(principal: Principal, items: list[queries.Check]) -> list[queries.Check]:
    return [shown(principal, item) for item in items]


def one_check(conn: psycopg.Connection, check_id: int) -> queries.Check:
    found = queries.check(conn, check_id)
    if found is None:
        raise NotFound(Message.of(N_("no spot check with id %(id)s"), id=check_id))
    return found


async def add_photo(pool: ConnectionPool, check_id: int, media_type: str, content: bytes) -> int:
    def add() -> int:
        with pool.connection() as conn:
            return refusing(checks.add_photo, conn, check_id, media_type, content)

    return await run_in_threadpool(add)


def circular(
    pool: ConnectionPool, runtime: Runtime, principal: Principal, period: str, day: date | None
) -> list[queries.CircularRow]:
    start, end = checks.period_bounds(period, day or today(runtime))
    with pool.connection() as conn:
        return queries.circular(conn, period, start, end, runtime.settings.timezone, place(principal))


def circular_rows(rows: list[queries.CircularRow]) -> list[tuple[object, ...]]:
    return [
        (
            r.township,
            r.provider,
            r.planned,
            r.done,
            *(r.findings.get(f, 0) for f in FINDINGS),
            r.rectifications,
            r.closed_on_time,
            r.complaints,
        )
        for r in rows
    ]


def credit_rows(items: list[credit.Credit]) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for c in items:
        facts = credit.Facts(**c.facts)
        out.append(
            (
                c.provider_name,
                c.month.strftime("%Y-%m"),
                c.score,
                c.proposal,
                c.standing,
                round(facts.acceptance, 3),
                round(facts.punctuality, 3),
                round(facts.satisfaction, 3),
                facts.findings,
                facts.complaints,
                facts.exceptions,
                facts.offers_answered,
                facts.arrivals,
                facts.reviews,
            )
        )
    return out


def circular_xlsx(rows: list[queries.CircularRow]) -> bytes:
    return xlsx("circular", CIRCULAR_HEADER, circular_rows(rows))


def credit_files(items: list[credit.Credit]) -> tuple[bytes, str]:
    rows = credit_rows(items)
    return xlsx("credit", CREDIT_HEADER, rows), csv_text(CREDIT_HEADER, rows)
