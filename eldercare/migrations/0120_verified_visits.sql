-- Verified visits: where and when a caregiver arrived and finished, how that was shown (the phone's location,
-- the code on the card at the elder's home, the elder's own button), and what failed verification, as
-- exceptions an operator resolves with a reason.

-- the code printed on the card kept at the elder's home; kept in the clear because the card must be printable
-- again and a six-digit code is no secret from whoever reads the database anyway. Old codes are kept so that a
-- caregiver texting one is told it was replaced (and the visit does not count as checked in).
CREATE TABLE elder_card_code (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    elder_id    bigint NOT NULL REFERENCES elder(id) ON DELETE CASCADE,
    code        text NOT NULL CHECK (code ~ '^[0-9]{6}$'),
    issued_at   timestamptz NOT NULL,
    issued_by   text NOT NULL,
    retired_at  timestamptz
);
CREATE UNIQUE INDEX elder_card_code_current ON elder_card_code (elder_id) WHERE retired_at IS NULL;
CREATE INDEX elder_card_code_elder ON elder_card_code (elder_id, issued_at);

-- one visit per order a caregiver arrived at: the six data elements of electronic visit verification
-- (service, elder, date, place, caregiver, start and end) and how each end of it was shown
CREATE TABLE visit (
    order_id             bigint PRIMARY KEY REFERENCES service_order(id),
    caregiver_id         bigint NOT NULL REFERENCES caregiver(id),
    arrived_at           timestamptz NOT NULL,
    arrival_via          text NOT NULL,
    arrival_check        text NOT NULL
        CHECK (arrival_check IN ('near', 'far', 'card', 'bad_card', 'no_location', 'none')),
    arrival_lat          double precision CHECK (arrival_lat BETWEEN -90 AND 90),
    arrival_lon          double precision CHECK (arrival_lon BETWEEN -180 AND 180),
    arrival_accuracy_m   real,
    arrival_distance_m   real,
    completed_at         timestamptz,
    completion_via       text,
    completion_check     text
        CHECK (completion_check IN ('near', 'far', 'card', 'bad_card', 'no_location', 'none')),
    completion_lat       double precision CHECK (completion_lat BETWEEN -90 AND 90),
    completion_lon       double precision CHECK (completion_lon BETWEEN -180 AND 180),
    completion_accuracy_m real,
    completion_distance_m real,
    button_pressed_at    timestamptz,
    -- open: under way; verified: every rule held; exception: waits for an operator; confirmed / rejected: decided
    status               text NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'verified', 'exception', 'confirmed', 'rejected')),
    verified_minutes     integer CHECK (verified_minutes >= 0),
    CHECK (completed_at IS NULL OR completed_at >= arrived_at)
);
CREATE INDEX visit_caregiver_time ON visit (caregiver_id, arrived_at);
CREATE INDEX visit_status ON visit (status) WHERE status = 'exception';

CREATE TABLE visit_exception (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id           bigint NOT NULL REFERENCES service_order(id),
    kind               text NOT NULL CHECK (kind IN (
                           'no_check_in', 'early', 'late', 'short', 'long', 'far', 'overlap', 'in_hospital',
                           'bad_code')),
    details            jsonb NOT NULL DEFAULT '{}',
    raised_at          timestamptz NOT NULL,
    resolution         text CHECK (resolution IN ('confirmed', 'rejected')),
    resolution_reason  text,
    resolved_by        text,
    resolved_at        timestamptz,
    UNIQUE (order_id, kind),
    CHECK ((resolution IS NULL) = (resolved_at IS NULL)),
    CHECK (resolution IS NULL OR length(resolution_reason) > 0)
);
CREATE INDEX visit_exception_open ON visit_exception (raised_at) WHERE resolution IS NULL;

-- an arrival or completion refused for its time; the same report again soon after goes through as an exception
CREATE TABLE visit_refusal (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id      bigint NOT NULL REFERENCES service_order(id),
    caregiver_id  bigint NOT NULL REFERENCES caregiver(id),
    step          text NOT NULL CHECK (step IN ('arrived', 'completed')),
    kind          text NOT NULL CHECK (kind IN ('early', 'late')),
    at            timestamptz NOT NULL
);
CREATE INDEX visit_refusal_recent ON visit_refusal (order_id, caregiver_id, step, at);
