-- Service orders and their timeline, offers to caregivers, SMS messages, recurring services.

CREATE TABLE recurring_service (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    elder_id        bigint NOT NULL REFERENCES elder(id),
    service_type    text NOT NULL REFERENCES service_type(code) CHECK (service_type <> 'emergency'),
    -- crontab fields in local time (minute hour day month day-of-week), e.g. '0 11 * * *' or '0 9 * * fri'
    schedule        text NOT NULL CHECK (schedule ~ '^\S+ \S+ \S+ \S+ \S+$'),
    duration_min    integer NOT NULL DEFAULT 60 CHECK (duration_min BETWEEN 5 AND 720),
    -- how long before the service time the order is created and offered
    lead_min        integer NOT NULL DEFAULT 60 CHECK (lead_min BETWEEN 0 AND 1440),
    preferred_caregiver_id bigint REFERENCES caregiver(id),
    notes           text NOT NULL DEFAULT '',
    starts_on       date NOT NULL DEFAULT current_date,
    ends_on         date,
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_on IS NULL OR ends_on >= starts_on)
);
CREATE INDEX recurring_service_elder_idx ON recurring_service (elder_id);

CREATE TABLE service_order (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- short code a caregiver types in an SMS reply
    code              text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9]{4,12}$'),
    elder_id          bigint NOT NULL REFERENCES elder(id),
    service_type      text NOT NULL REFERENCES service_type(code),
    status            text NOT NULL DEFAULT 'created' CHECK (status IN (
                          'created', 'offered', 'accepted', 'en_route', 'arrived', 'completed',
                          'reviewed', 'escalated', 'cancelled')),
    priority          smallint NOT NULL DEFAULT 5 CHECK (priority BETWEEN 0 AND 9),  -- 0 most urgent
    source            text NOT NULL CHECK (source IN ('alarm', 'operator', 'recurring', 'api', 'simulation')),
    alarm_id          bigint REFERENCES alarm(id),
    recurring_service_id bigint REFERENCES recurring_service(id),
    occurrence_at     timestamptz,            -- the recurring service's scheduled time
    window_start      timestamptz NOT NULL,   -- when the service is wanted
    window_end        timestamptz NOT NULL,
    duration_min      integer NOT NULL CHECK (duration_min > 0),
    notes             text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL,
    created_by        text NOT NULL,
    caregiver_id      bigint REFERENCES caregiver(id),
    provider_id       integer REFERENCES provider(id),
    offers_made       smallint NOT NULL DEFAULT 0,
    accepted_at       timestamptz,
    en_route_at       timestamptz,
    arrived_at        timestamptz,
    completed_at      timestamptz,
    cancelled_at      timestamptz,
    cancel_reason     text,
    -- deadlines swept by the dispatcher: escalate when no acceptance by / no arrival by
    accept_due_at     timestamptz,
    arrival_due_at    timestamptz,
    escalation_level  smallint NOT NULL DEFAULT 0,
    escalated_at      timestamptz,
    travel_km         real CHECK (travel_km >= 0),
    satisfaction      smallint CHECK (satisfaction BETWEEN 1 AND 5),
    review_note       text,
    reviewed_at       timestamptz,
    reviewed_by       text,
    updated_at        timestamptz NOT NULL,
    CHECK (window_end >= window_start),
    CHECK ((recurring_service_id IS NULL) = (occurrence_at IS NULL)),
    CHECK (status NOT IN ('accepted', 'en_route', 'arrived', 'completed', 'reviewed')
           OR (caregiver_id IS NOT NULL AND accepted_at IS NOT NULL)),
    CHECK (status NOT IN ('completed', 'reviewed') OR completed_at IS NOT NULL),
    CHECK (status <> 'reviewed' OR satisfaction IS NOT NULL)
);
-- one order per recurring occurrence, however many dispatchers run
CREATE UNIQUE INDEX service_order_occurrence_uq ON service_order (recurring_service_id, occurrence_at)
    WHERE recurring_service_id IS NOT NULL;
-- one emergency order per alarm
CREATE UNIQUE INDEX service_order_alarm_uq ON service_order (alarm_id) WHERE alarm_id IS NOT NULL;
CREATE INDEX service_order_status_idx ON service_order (status, created_at);
CREATE INDEX service_order_created_idx ON service_order (created_at);
CREATE INDEX service_order_elder_idx ON service_order (elder_id, created_at);
CREATE INDEX service_order_caregiver_idx ON service_order (caregiver_id, status);
CREATE INDEX service_order_accept_due_idx ON service_order (accept_due_at)
    WHERE status IN ('created', 'offered');
CREATE INDEX service_order_arrival_due_idx ON service_order (arrival_due_at)
    WHERE status IN ('accepted', 'en_route');

-- the order's timeline: every transition, with who, when and why
CREATE TABLE order_event (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id      bigint NOT NULL REFERENCES service_order(id) ON DELETE CASCADE,
    at            timestamptz NOT NULL,
    from_status   text,
    to_status     text NOT NULL,
    actor_kind    text NOT NULL CHECK (actor_kind IN ('system', 'operator', 'caregiver', 'scheduler', 'family')),
    actor         text NOT NULL,
    reason        text NOT NULL DEFAULT '',
    details       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX order_event_order_idx ON order_event (order_id, at);

CREATE TABLE sms_message (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    direction     text NOT NULL CHECK (direction IN ('outbound', 'inbound')),
    -- Twilio's MessageSid; unique so a duplicate webhook delivery is handled once
    twilio_sid    text UNIQUE,
    to_phone      text NOT NULL,
    from_phone    text NOT NULL,
    body          text NOT NULL,
    purpose       text NOT NULL CHECK (purpose IN (
                      'offer', 'offer_reply', 'family', 'manager', 'operator', 'help', 'reply')),
    status        text NOT NULL CHECK (status IN (
                      'pending', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed',
                      'received', 'opted_out')),
    error_code    integer,
    error_message text,
    attempts      smallint NOT NULL DEFAULT 0,
    order_id      bigint REFERENCES service_order(id),
    caregiver_id  bigint REFERENCES caregiver(id),
    contact_id    bigint REFERENCES emergency_contact(id),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX sms_message_order_idx ON sms_message (order_id);
CREATE INDEX sms_message_created_idx ON sms_message (created_at);

CREATE TABLE offer (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id      bigint NOT NULL REFERENCES service_order(id) ON DELETE CASCADE,
    caregiver_id  bigint NOT NULL REFERENCES caregiver(id),
    rank          smallint NOT NULL CHECK (rank >= 1),
    score         real NOT NULL,
    distance_km   real NOT NULL CHECK (distance_km >= 0),
    eta_min       real NOT NULL CHECK (eta_min >= 0),
    -- why this caregiver: the ranking's terms, shown to operators
    reasons       jsonb NOT NULL DEFAULT '{}',
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN (
                      'pending', 'sent', 'accepted', 'declined', 'expired', 'failed', 'cancelled')),
    created_at    timestamptz NOT NULL,
    sent_at       timestamptz,
    expires_at    timestamptz NOT NULL,
    answered_at   timestamptz,
    sms_id        bigint REFERENCES sms_message(id)
);
-- at most one live offer per order, whoever makes it
CREATE UNIQUE INDEX offer_one_live_per_order ON offer (order_id) WHERE status IN ('pending', 'sent');
CREATE INDEX offer_expiry_idx ON offer (expires_at) WHERE status IN ('pending', 'sent');
CREATE INDEX offer_caregiver_idx ON offer (caregiver_id, status);
CREATE INDEX offer_sms_idx ON offer (sms_id);
