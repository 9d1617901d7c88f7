-- A day's booked visits planned ahead as routes (dispatcher/planning): the plan, each visit with the caregiver,
-- the place in their route and the planned start, or why nobody could take it. A visit is never dropped: it is
-- either assigned or carries a reason.

-- where a provider's meals are cooked: meal routes start there (NULL: meals are taken from the caregiver's home)
ALTER TABLE provider
    ADD COLUMN kitchen_lat double precision CHECK (kitchen_lat BETWEEN -90 AND 90),
    ADD COLUMN kitchen_lon double precision CHECK (kitchen_lon BETWEEN -180 AND 180),
    ADD CONSTRAINT provider_kitchen_both CHECK ((kitchen_lat IS NULL) = (kitchen_lon IS NULL));

CREATE TABLE plan (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    day             date NOT NULL,                 -- the local day planned
    made_at         timestamptz NOT NULL,
    made_by         text NOT NULL,
    -- the newest plan of a day is the one in force; a re-plan supersedes it
    superseded_at   timestamptz,
    solver          text NOT NULL,
    -- the solver stopped at its time limit: the plan is the best it had found, valid but maybe not the best
    timed_out       boolean NOT NULL,
    solver_seconds  real NOT NULL CHECK (solver_seconds >= 0),
    load_seconds    real NOT NULL CHECK (load_seconds >= 0),
    figures         jsonb NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX plan_in_force_uq ON plan (day) WHERE superseded_at IS NULL;

CREATE TABLE plan_visit (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id               bigint NOT NULL REFERENCES plan(id) ON DELETE CASCADE,
    elder_id              bigint NOT NULL REFERENCES elder(id),
    service_type          text NOT NULL REFERENCES service_type(code),
    -- a recurring occurrence (its order is made when it falls due) or an order that already exists
    recurring_service_id  bigint REFERENCES recurring_service(id),
    occurrence_at         timestamptz,
    order_id              bigint REFERENCES service_order(id),
    window_start          timestamptz NOT NULL,
    window_end            timestamptz NOT NULL,
    duration_min          integer NOT NULL CHECK (duration_min > 0),
    caregiver_id          bigint REFERENCES caregiver(id),
    sequence              smallint CHECK (sequence >= 1),
    planned_start         timestamptz,
    travel_km             real CHECK (travel_km >= 0),
    -- an eligibility code (dispatcher/eligibility.py) or no_room; with the particulars in plain words
    unassigned_reason     text,
    unassigned_detail     text,
    CHECK ((recurring_service_id IS NULL) = (occurrence_at IS NULL)),
    CHECK (recurring_service_id IS NOT NULL OR order_id IS NOT NULL),
    CHECK ((caregiver_id IS NULL) = (unassigned_reason IS NOT NULL)),
    CHECK ((caregiver_id IS NULL) = (planned_start IS NULL) AND (caregiver_id IS NULL) = (sequence IS NULL))
);
CREATE INDEX plan_visit_plan_idx ON plan_visit (plan_id, caregiver_id, sequence);
CREATE INDEX plan_visit_occurrence_idx ON plan_visit (recurring_service_id, occurrence_at);
CREATE INDEX plan_visit_order_idx ON plan_visit (order_id) WHERE order_id IS NOT NULL;

-- a caregiver's day in a plan: told by SMS the evening before, confirmed by their reply
CREATE TABLE plan_route (
    plan_id        bigint NOT NULL REFERENCES plan(id) ON DELETE CASCADE,
    caregiver_id   bigint NOT NULL REFERENCES caregiver(id),
    visits         smallint NOT NULL CHECK (visits >= 0),
    km             real NOT NULL CHECK (km >= 0),
    busy_minutes   real NOT NULL CHECK (busy_minutes >= 0),
    told_at        timestamptz,
    confirmed_at   timestamptz,
    PRIMARY KEY (plan_id, caregiver_id)
);
