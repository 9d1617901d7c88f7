-- Supervision (三三督查): spot-check plans and their drawn checks, check records with photos, complaints,
-- rectifications asked of providers, and each provider's monthly credit with the standing an admin decided.
-- See docs/supervision.md for the sampling rule and the credit formula.

-- the contact responsible for an elder (包保人), called in liaison checks
ALTER TABLE emergency_contact ADD COLUMN is_liaison boolean NOT NULL DEFAULT false;

INSERT INTO alarm_type (code, severity, name_zh, name_en)
VALUES ('rectification_overdue', 'warning', '整改逾期', 'Rectification overdue');

-- how many checks of which kind one level draws in one period; the seed makes the draw reproducible
CREATE TABLE spot_check_plan (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period        text NOT NULL CHECK (period IN ('week', 'month')),
    period_start  date NOT NULL,
    level         text NOT NULL CHECK (level IN ('city', 'township', 'community')),
    township_id   smallint REFERENCES township(id),
    community_id  integer REFERENCES community(id),
    elder_calls   integer NOT NULL DEFAULT 0 CHECK (elder_calls BETWEEN 0 AND 10000),
    home_visits   integer NOT NULL DEFAULT 0 CHECK (home_visits BETWEEN 0 AND 10000),
    liaison_calls integer NOT NULL DEFAULT 0 CHECK (liaison_calls BETWEEN 0 AND 10000),
    seed          bigint NOT NULL,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((level = 'city') = (township_id IS NULL AND community_id IS NULL)),
    CHECK (level <> 'township' OR (township_id IS NOT NULL AND community_id IS NULL)),
    CHECK (level <> 'community' OR (community_id IS NOT NULL AND township_id IS NULL))
);
-- one plan per period and place (PostgreSQL 14 has no UNIQUE NULLS NOT DISTINCT)
CREATE UNIQUE INDEX spot_check_plan_once_idx
    ON spot_check_plan (period, period_start, level, coalesce(township_id, 0), coalesce(community_id, 0));

CREATE TABLE spot_check (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id       bigint NOT NULL REFERENCES spot_check_plan(id) ON DELETE CASCADE,
    period        text NOT NULL,
    period_start  date NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('elder_call', 'home_visit', 'liaison_call')),
    elder_id      bigint NOT NULL REFERENCES elder(id),
    order_id      bigint REFERENCES service_order(id),   -- the service the check asks about
    provider_id   integer REFERENCES provider(id),
    -- the record, filled in once
    checked_at    timestamptz,
    checked_by    text,
    reached       boolean,
    delivered     text CHECK (delivered IN ('yes', 'no', 'partly')),
    punctual      boolean,
    attitude      text CHECK (attitude IN ('good', 'fair', 'rude')),
    fee_asked_fen integer CHECK (fee_asked_fen BETWEEN 0 AND 100000000),
    satisfaction  smallint CHECK (satisfaction BETWEEN 1 AND 5),
    unsafe        boolean,
    note          text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    -- never the same elder twice in a period, whichever level drew them
    UNIQUE (period, period_start, elder_id)
);
CREATE INDEX spot_check_plan_idx ON spot_check (plan_id);
CREATE INDEX spot_check_provider_idx ON spot_check (provider_id, period_start);

CREATE TABLE spot_check_photo (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    check_id    bigint NOT NULL REFERENCES spot_check(id) ON DELETE CASCADE,
    media_type  text NOT NULL CHECK (media_type IN ('image/jpeg', 'image/png', 'image/webp')),
    content     bytea NOT NULL CHECK (octet_length(content) BETWEEN 1 AND 1048576),
    added_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX spot_check_photo_check_idx ON spot_check_photo (check_id);

CREATE TABLE complaint (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    elder_id     bigint NOT NULL REFERENCES elder(id),
    provider_id  integer REFERENCES provider(id),
    order_id     bigint REFERENCES service_order(id),
    source       text NOT NULL CHECK (source IN ('sms', 'operator')),
    from_phone   text,
    body         text NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
    received_at  timestamptz NOT NULL,
    entered_by   text,
    answer       text CHECK (length(answer) <= 2000),
    answered_at  timestamptz,
    closed_at    timestamptz,
    closed_by    text
);
CREATE INDEX complaint_provider_idx ON complaint (provider_id, received_at);
CREATE INDEX complaint_elder_idx ON complaint (elder_id, received_at);

-- asked of a provider after a finding of a check (or a complaint), to be answered before the deadline
CREATE TABLE rectification (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_id   integer NOT NULL REFERENCES provider(id),
    elder_id      bigint NOT NULL REFERENCES elder(id),
    check_id      bigint REFERENCES spot_check(id),
    complaint_id  bigint REFERENCES complaint(id),
    finding       text NOT NULL CHECK (finding IN ('not_delivered', 'illegal_charge', 'late', 'rude', 'unsafe',
                                                   'complaint')),
    opened_at     timestamptz NOT NULL,
    deadline      timestamptz NOT NULL CHECK (deadline > opened_at),
    answer        text CHECK (length(answer) <= 2000),
    closed_at     timestamptz,
    closed_by     text,
    alarm_id      bigint REFERENCES alarm(id),   -- raised when it went past its deadline open
    CHECK (num_nonnulls(check_id, complaint_id) = 1),
    UNIQUE (check_id, finding)
);
CREATE INDEX rectification_open_idx ON rectification (deadline) WHERE closed_at IS NULL AND alarm_id IS NULL;
CREATE INDEX rectification_provider_idx ON rectification (provider_id, opened_at);

-- the month's score of each provider with the facts behind it, and the standing it proposes
CREATE TABLE provider_credit (
    provider_id  integer NOT NULL REFERENCES provider(id),
    month        date NOT NULL CHECK (extract(day FROM month) = 1),
    score        numeric(5, 1) NOT NULL,
    facts        jsonb NOT NULL,
    proposal     text NOT NULL CHECK (proposal IN ('red', 'normal', 'black')),
    computed_at  timestamptz NOT NULL,
    PRIMARY KEY (provider_id, month)
);

-- an admin's decision on a proposal (or on their own), with the reason; provider.standing follows it
CREATE TABLE standing_decision (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_id  integer NOT NULL REFERENCES provider(id),
    month        date,
    standing     text NOT NULL CHECK (standing IN ('red', 'normal', 'black')),
    reason       text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    decided_by   text NOT NULL,
    decided_at   timestamptz NOT NULL
);
CREATE INDEX standing_decision_provider_idx ON standing_decision (provider_id, decided_at);
