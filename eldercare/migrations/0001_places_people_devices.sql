-- Places, elders, their contacts and devices; providers and caregivers; operators.

CREATE TABLE township (
    id          smallint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL UNIQUE,
    name        text NOT NULL,
    lat         double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon         double precision NOT NULL CHECK (lon BETWEEN -180 AND 180)
);

CREATE TABLE community (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    township_id smallint NOT NULL REFERENCES township(id),
    code        text NOT NULL UNIQUE,
    name        text NOT NULL,
    lat         double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon         double precision NOT NULL CHECK (lon BETWEEN -180 AND 180)
);
CREATE INDEX community_township_idx ON community (township_id);

-- The seven "six aids and one care" services. Codes are part of the external contract.
CREATE TABLE service_type (
    code                 text PRIMARY KEY,
    name_zh              text NOT NULL,
    name_en              text NOT NULL,
    is_emergency         boolean NOT NULL DEFAULT false,
    default_minutes      integer NOT NULL CHECK (default_minutes > 0),
    -- government-purchased service price per hour, in fen (0.01 CNY), used by the monthly settlement report
    subsidy_per_hour_fen integer NOT NULL CHECK (subsidy_per_hour_fen >= 0),
    sort_order           smallint NOT NULL
);
INSERT INTO service_type (code, name_zh, name_en, is_emergency, default_minutes, subsidy_per_hour_fen, sort_order)
VALUES
    ('meal',      '助餐', 'Meal delivery',       false, 30, 2000, 1),
    ('cleaning',  '助洁', 'Housekeeping',        false, 120, 3500, 2),
    ('bathing',   '助浴', 'Bathing help',        false, 60, 5000, 3),
    ('medical',   '助医', 'Medical escort',      false, 120, 4000, 4),
    ('mobility',  '助行', 'Escort on outings',   false, 90, 3500, 5),
    ('emergency', '助急', 'Emergency response',  true,  60, 6000, 6),
    ('care',      '护理', 'Personal care',       false, 90, 5500, 7);

CREATE TABLE elder (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code            text NOT NULL UNIQUE,
    name            text NOT NULL,
    gender          char(1) NOT NULL CHECK (gender IN ('F', 'M')),
    birth_date      date NOT NULL CHECK (birth_date > DATE '1900-01-01'),
    phone           text,
    language        text NOT NULL DEFAULT 'zh' CHECK (language IN ('zh', 'en')),
    community_id    integer NOT NULL REFERENCES community(id),
    address         text NOT NULL,
    lat             double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon             double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    -- national elder ability assessment: 0 intact, 1 mild, 2 moderate, 3 severe, 4 total loss of ability
    ability_level   smallint NOT NULL DEFAULT 0 CHECK (ability_level BETWEEN 0 AND 4),
    lives_alone     boolean NOT NULL DEFAULT false,
    left_behind     boolean NOT NULL DEFAULT false,
    -- none, minimum living allowance (低保), extreme poverty support (特困)
    economic_status text NOT NULL DEFAULT 'none'
                    CHECK (economic_status IN ('none', 'min_allowance', 'extreme_poverty')),
    -- per-elder overrides of alarm thresholds, e.g. {"hr_high": 110}; keys are checked by the gateway
    thresholds      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(thresholds) = 'object'),
    notes           text NOT NULL DEFAULT '',
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX elder_community_idx ON elder (community_id);

CREATE TABLE emergency_contact (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    elder_id    bigint NOT NULL REFERENCES elder(id) ON DELETE CASCADE,
    name        text NOT NULL,
    relation    text NOT NULL,
    phone       text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    language    text NOT NULL DEFAULT 'zh' CHECK (language IN ('zh', 'en')),
    priority    smallint NOT NULL DEFAULT 1 CHECK (priority BETWEEN 1 AND 9),
    notify_sms  boolean NOT NULL DEFAULT true
);
CREATE INDEX emergency_contact_elder_idx ON emergency_contact (elder_id);

CREATE TABLE device_type (
    code     text PRIMARY KEY,
    name_zh  text NOT NULL,
    name_en  text NOT NULL
);
INSERT INTO device_type (code, name_zh, name_en) VALUES
    ('button',        '紧急呼叫按钮', 'Emergency button'),
    ('pendant',       '定位胸牌',     'Pendant'),
    ('watch',         '健康手表',     'Health watch'),
    ('fall_detector', '跌倒探测器',   'Fall detector'),
    ('smoke',         '烟雾报警器',   'Smoke sensor'),
    ('gas',           '燃气报警器',   'Gas sensor'),
    ('door',          '门磁',         'Door sensor'),
    ('bed',           '床垫传感器',   'Bed sensor');

CREATE TABLE device (
    id             text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{3,64}$'),
    type           text NOT NULL REFERENCES device_type(code),
    elder_id       bigint NOT NULL REFERENCES elder(id),
    -- the device's MQTT password is never stored, only a hash (see eldercare.credentials)
    secret_hash    text NOT NULL,
    online         boolean NOT NULL DEFAULT false,
    last_seen_at   timestamptz,
    battery        smallint CHECK (battery BETWEEN 0 AND 100),
    last_lat       double precision CHECK (last_lat BETWEEN -90 AND 90),
    last_lon       double precision CHECK (last_lon BETWEEN -180 AND 180),
    last_seq       bigint,
    firmware       text,
    active         boolean NOT NULL DEFAULT true,
    registered_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX device_elder_idx ON device (elder_id);
CREATE INDEX device_offline_idx ON device (last_seen_at) WHERE active;

CREATE TABLE provider (
    id             integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code           text NOT NULL UNIQUE,
    name           text NOT NULL,
    phone          text NOT NULL,
    manager_name   text NOT NULL,
    manager_phone  text NOT NULL CHECK (manager_phone ~ '^\+[1-9][0-9]{6,14}$'),
    -- red list: commended; black list: barred from new orders
    standing       text NOT NULL DEFAULT 'normal' CHECK (standing IN ('red', 'normal', 'black')),
    standing_note  text NOT NULL DEFAULT '',
    -- orders the provider may have in progress at once
    capacity       integer NOT NULL DEFAULT 50 CHECK (capacity >= 0),
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE provider_service (
    provider_id   integer NOT NULL REFERENCES provider(id) ON DELETE CASCADE,
    service_type  text NOT NULL REFERENCES service_type(code),
    PRIMARY KEY (provider_id, service_type)
);

-- the communities a provider is contracted to serve
CREATE TABLE provider_area (
    provider_id   integer NOT NULL REFERENCES provider(id) ON DELETE CASCADE,
    community_id  integer NOT NULL REFERENCES community(id),
    PRIMARY KEY (provider_id, community_id)
);
CREATE INDEX provider_area_community_idx ON provider_area (community_id);

CREATE TABLE caregiver (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code            text NOT NULL UNIQUE,
    provider_id     integer NOT NULL REFERENCES provider(id),
    name            text NOT NULL,
    gender          char(1) NOT NULL CHECK (gender IN ('F', 'M')),
    phone           text NOT NULL UNIQUE CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    language        text NOT NULL DEFAULT 'zh' CHECK (language IN ('zh', 'en')),
    home_lat        double precision NOT NULL CHECK (home_lat BETWEEN -90 AND 90),
    home_lon        double precision NOT NULL CHECK (home_lon BETWEEN -180 AND 180),
    travel_mode     text NOT NULL DEFAULT 'ebike' CHECK (travel_mode IN ('walk', 'ebike', 'car')),
    -- orders the caregiver may hold at once (accepted and not yet completed)
    max_load        smallint NOT NULL DEFAULT 2 CHECK (max_load BETWEEN 1 AND 20),
    rating          numeric(2, 1) NOT NULL DEFAULT 4.5 CHECK (rating BETWEEN 0 AND 5),
    sms_opt_out     boolean NOT NULL DEFAULT false,
    opted_out_at    timestamptz,
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX caregiver_provider_idx ON caregiver (provider_id);

CREATE TABLE caregiver_skill (
    caregiver_id  bigint NOT NULL REFERENCES caregiver(id) ON DELETE CASCADE,
    service_type  text NOT NULL REFERENCES service_type(code),
    PRIMARY KEY (caregiver_id, service_type)
);
CREATE INDEX caregiver_skill_service_idx ON caregiver_skill (service_type, caregiver_id);

-- weekly working hours in local time; a shift may run past midnight (ends <= starts)
CREATE TABLE caregiver_shift (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    caregiver_id  bigint NOT NULL REFERENCES caregiver(id) ON DELETE CASCADE,
    weekday       smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),  -- ISO: 1 Monday .. 7 Sunday
    starts        time NOT NULL,
    ends          time NOT NULL,
    CHECK (starts <> ends)
);
CREATE INDEX caregiver_shift_caregiver_idx ON caregiver_shift (caregiver_id, weekday);

CREATE TABLE operator (
    id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username        text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9_.@-]{2,64}$'),
    display_name    text NOT NULL DEFAULT '',
    password_hash   text NOT NULL,
    role            text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    language        text NOT NULL DEFAULT 'zh' CHECK (language IN ('zh', 'en')),
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_login_at   timestamptz
);

CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL,           -- operator username, 'system', 'cli', or a caregiver code
    action       text NOT NULL,           -- e.g. alarm.acknowledge, order.cancel, user.add
    target_kind  text,
    target_id    text,
    details      jsonb NOT NULL DEFAULT '{}',
    client_ip    inet
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_target_idx ON audit_log (target_kind, target_id);

-- every rejected input, with its reason and a truncated copy, so nothing vanishes silently
CREATE TABLE dead_letter (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at   timestamptz NOT NULL DEFAULT now(),
    source        text NOT NULL CHECK (source IN ('mqtt', 'sms', 'http')),
    reason        text NOT NULL,          -- a short code, e.g. malformed_json, unknown_device
    detail        text NOT NULL DEFAULT '',
    topic         text,
    device_id     text,                   -- as claimed by the input; not a foreign key on purpose
    payload       bytea,                  -- at most a few kilobytes of the original
    payload_size  integer NOT NULL DEFAULT 0
);
CREATE INDEX dead_letter_received_idx ON dead_letter (received_at);
CREATE INDEX dead_letter_reason_idx ON dead_letter (reason, received_at);
