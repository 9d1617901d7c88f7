"""The elder's care plan (the recurring services) edited from the elder's page, through ``dashboard.recurring``:
add a service, change its schedule, stop or resume it."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from dashboard import recurring
from dashboard.auth import Actor
from dashboard.errors import Invalid, NotFound
from dashboard.recurring import RecurringCreate, RecurringUpdate
from dashboard.runtime import Runtime
from eldercare.db import ID_MAX
from eldercare.i18n import N_
from eldercare.labels import Listed, Message
from eldercare.register.model import problems_of

router = APIRouter()
ElderId = Annotated[int, Path(ge=1, le=ID_MAX)]
RecurringId = Annotated[int, Path(ge=1, le=ID_MAX)]
Plan = TypeVar("Plan", RecurringCreate, RecurringUpdate)


def _fields(form: FormData, keys: tuple[str, ...]) -> dict[str, Any]:
    values = {key: form.get(key) for key in keys}
    return {key: value.strip() for key, value in values.items() if isinstance(value, str) and value.strip()}


def _checked(model: type[Plan], data: dict[str, Any]) -> Plan:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        said = [Message.of(N_("%(field)s: %(problem)s"), field=p.field, problem=p.said) for p in problems_of(err)]
        raise Invalid(
            Message.of(N_("the care plan cannot be saved: %(problems)s"), problems=Listed(tuple(said), N_("; ")))
        ) from None


@router.post("/elders/{elder_id}/care-plan")
async def add_service(request: Request, principal: Actor, elder_id: ElderId) -> Response:
    form = await request.form()
    runtime: Runtime = request.app.state.runtime
    data = _fields(form, ("service_type", "schedule", "duration_min", "lead_min", "notes", "starts_on", "ends_on"))
    plan = _checked(RecurringCreate, {**data, "elder_id": elder_id})

    def work() -> None:
        today = runtime.clock.now().astimezone(runtime.dispatch.timezone).date()
        with request.app.state.pool.connection() as conn:
            recurring.create_recurring(conn, plan, principal.username, today)

    await run_in_threadpool(work)
    return RedirectResponse(f"/elders/{elder_id}#care-plan", status_code=303)


@router.post("/elders/{elder_id}/care-plan/{recurring_id}")
async def change_service(request: Request, principal: Actor, elder_id: ElderId, recurring_id: RecurringId) -> Response:
    form = await request.form()
    data: dict[str, Any] = _fields(form, ("schedule", "duration_min", "ends_on"))
    if form.get("active") in ("true", "false"):
        data["active"] = form.get("active") == "true"
    change = _checked(RecurringUpdate, data)

    def work() -> None:
        with request.app.state.pool.connection() as conn:
            if recurring.get_recurring(conn, recurring_id).elder_id != elder_id:
                raise NotFound(Message.of(N_("the elder has no recurring service %(id)s"), id=recurring_id))
            recurring.update_recurring(conn, recurring_id, change, principal.username)

    await run_in_threadpool(work)
    return RedirectResponse(f"/elders/{elder_id}#care-plan", status_code=303)
