-- The dashboard's own tables: login attempts (rate limiting shared by every dashboard process) and the daily
-- KPI rollups the KPI page and the monthly report read instead of scanning orders and alarms.
--
-- Rollups are refreshed incrementally: statement-level triggers on service_order and alarm mark the local
-- day of each changed row as dirty (orders by created_at, alarms by received_at), and
-- refresh_kpi_rollups() recomputes only the dirty days. The dashboard calls it before it answers a KPI or
-- report request when the last refresh is older than a few seconds (see dashboard.kpi_rollup), so figures
-- are at most that old and no scheduler is needed; any process may call it too (an advisory lock keeps two
-- refreshes from doing the same work).

CREATE TABLE login_attempt (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    username    text NOT NULL,
    client_ip   inet,
    succeeded   boolean NOT NULL
);
CREATE INDEX login_attempt_username_idx ON login_attempt (username, at) WHERE NOT succeeded;
CREATE INDEX login_attempt_ip_idx ON login_attempt (client_ip, at) WHERE NOT succeeded;
CREATE INDEX login_attempt_at_idx ON login_attempt (at);

-- the local time zone that decides which day an order or alarm belongs to; the dashboard keeps it equal
-- to ELDERCARE_TIMEZONE (and clears the rollups when it changes)
CREATE TABLE kpi_setting (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    timezone      text NOT NULL DEFAULT 'Asia/Shanghai',
    refreshed_at  timestamptz
);
INSERT INTO kpi_setting DEFAULT VALUES;

CREATE TABLE kpi_dirty_day (
    kind  text NOT NULL CHECK (kind IN ('order', 'alarm')),
    day   date NOT NULL,
    PRIMARY KEY (kind, day)
);

-- orders by the local day they were created, service type, provider (0: never assigned) and township;
-- read when the KPI page is filtered, and by the monthly report
CREATE TABLE kpi_order_daily (
    day               date NOT NULL,
    service_type      text NOT NULL REFERENCES service_type(code),
    provider_id       integer NOT NULL,
    township_id       smallint NOT NULL,
    orders            integer NOT NULL,
    accepted          integer NOT NULL,
    -- seconds from creation to acceptance, one per accepted order, so percentiles stay exact
    accept_secs       integer[] NOT NULL,
    completed         integer NOT NULL,     -- completed or reviewed
    cancelled         integer NOT NULL,
    escalated         integer NOT NULL,     -- escalated at least once
    closed            integer NOT NULL,     -- completed, reviewed, cancelled, or escalated and not yet handled
    arrival_measured  integer NOT NULL,     -- arrived, or accepted and then cancelled or escalated
    arrived_30        integer NOT NULL,     -- arrival within 30 minutes of when the service was due
    arrived_45        integer NOT NULL,
    arrived_60        integer NOT NULL,
    reviewed          integer NOT NULL,
    satisfaction_sum  integer NOT NULL,
    service_minutes   bigint NOT NULL,      -- of completed orders: arrival to completion, else planned
    subsidy_fen       bigint NOT NULL,      -- service_minutes at the service type's hourly subsidy
    PRIMARY KEY (day, service_type, provider_id, township_id)
);
CREATE INDEX kpi_order_daily_provider_idx ON kpi_order_daily (provider_id, day);

-- alarms by the local day they were received, township and type
CREATE TABLE kpi_alarm_daily (
    day           date NOT NULL,
    township_id   smallint NOT NULL,
    type          text NOT NULL REFERENCES alarm_type(code),
    severity      text NOT NULL,
    raised        integer NOT NULL,
    acknowledged  integer NOT NULL,
    ack_60        integer NOT NULL,     -- acknowledged within 60 s of being received
    ack_180       integer NOT NULL,
    ack_secs      integer[] NOT NULL,
    real_emergency integer NOT NULL,
    false_alarm   integer NOT NULL,
    PRIMARY KEY (day, township_id, type)
);

-- The same figures summed over one dimension at a time (and over none: 'all'), so the unfiltered KPI page
-- reads a few hundred rows a day instead of one per combination of type, provider and township.
CREATE TABLE kpi_order_slice (
    day               date NOT NULL,
    dimension         text NOT NULL CHECK (dimension IN ('all', 'service_type', 'provider', 'township')),
    key               text NOT NULL,
    orders            integer NOT NULL,
    accepted          integer NOT NULL,
    accept_secs       integer[] NOT NULL,
    completed         integer NOT NULL,
    cancelled         integer NOT NULL,
    escalated         integer NOT NULL,
    closed            integer NOT NULL,
    arrival_measured  integer NOT NULL,
    arrived_30        integer NOT NULL,
    arrived_45        integer NOT NULL,
    arrived_60        integer NOT NULL,
    reviewed          integer NOT NULL,
    satisfaction_sum  integer NOT NULL,
    service_minutes   bigint NOT NULL,
    subsidy_fen       bigint NOT NULL,
    PRIMARY KEY (day, dimension, key)
);

CREATE TABLE kpi_alarm_slice (
    day           date NOT NULL,
    dimension     text NOT NULL CHECK (dimension IN ('all', 'township')),
    key           text NOT NULL,
    raised        integer NOT NULL,
    acknowledged  integer NOT NULL,
    ack_60        integer NOT NULL,
    ack_180       integer NOT NULL,
    ack_secs      integer[] NOT NULL,
    real_emergency integer NOT NULL,
    false_alarm   integer NOT NULL,
    PRIMARY KEY (day, dimension, key)
);

-- concatenates arrays across rows (the per-order seconds of the rows being summed)
CREATE AGGREGATE array_cat_agg(anycompatiblearray) (SFUNC = array_cat, STYPE = anycompatiblearray, INITCOND = '{}');

CREATE FUNCTION mark_kpi_order_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kpi_dirty_day (kind, day)
    SELECT DISTINCT 'order', (created_at AT TIME ZONE (SELECT timezone FROM kpi_setting))::date FROM changed_rows
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION mark_kpi_alarm_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kpi_dirty_day (kind, day)
    SELECT DISTINCT 'alarm', (received_at AT TIME ZONE (SELECT timezone FROM kpi_setting))::date FROM changed_rows
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION clear_kpi_rollups() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'service_order' THEN
        DELETE FROM kpi_order_daily;
        DELETE FROM kpi_order_slice;
        DELETE FROM kpi_dirty_day WHERE kind = 'order';
    ELSE
        DELETE FROM kpi_alarm_daily;
        DELETE FROM kpi_alarm_slice;
        DELETE FROM kpi_dirty_day WHERE kind = 'alarm';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER service_order_kpi_insert AFTER INSERT ON service_order
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION mark_kpi_order_days();
CREATE TRIGGER service_order_kpi_update AFTER UPDATE ON service_order
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION mark_kpi_order_days();
CREATE TRIGGER service_order_kpi_delete AFTER DELETE ON service_order
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION mark_kpi_order_days();
CREATE TRIGGER service_order_kpi_truncate AFTER TRUNCATE ON service_order
    FOR EACH STATEMENT EXECUTE FUNCTION clear_kpi_rollups();
CREATE TRIGGER alarm_kpi_insert AFTER INSERT ON alarm
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION mark_kpi_alarm_days();
CREATE TRIGGER alarm_kpi_update AFTER UPDATE ON alarm
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION mark_kpi_alarm_days();
CREATE TRIGGER alarm_kpi_delete AFTER DELETE ON alarm
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION mark_kpi_alarm_days();
CREATE TRIGGER alarm_kpi_truncate AFTER TRUNCATE ON alarm
    FOR EACH STATEMENT EXECUTE FUNCTION clear_kpi_rollups();

-- Recompute the rollups of every dirty day; returns how many days it recomputed, or -1 when another
-- session is refreshing right now (its result will do).
CREATE FUNCTION refresh_kpi_rollups() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    tz text;
    order_days date[];
    alarm_days date[];
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('eldercare.kpi_rollups')) THEN
        RETURN -1;
    END IF;
    SELECT timezone INTO tz FROM kpi_setting;
    -- take the marks first: a change committed while this runs marks its day again for the next refresh
    WITH taken AS (DELETE FROM kpi_dirty_day WHERE kind = 'order' RETURNING day)
    SELECT coalesce(array_agg(day), '{}') INTO order_days FROM taken;
    WITH taken AS (DELETE FROM kpi_dirty_day WHERE kind = 'alarm' RETURNING day)
    SELECT coalesce(array_agg(day), '{}') INTO alarm_days FROM taken;

    IF cardinality(order_days) > 0 THEN
        DELETE FROM kpi_order_daily WHERE day = ANY (order_days);
        INSERT INTO kpi_order_daily
        SELECT d.day, o.service_type, coalesce(o.provider_id, 0), c.township_id,
               count(*),
               count(o.accepted_at),
               coalesce(array_agg(greatest(0, extract(epoch FROM o.accepted_at - o.created_at))::integer)
                        FILTER (WHERE o.accepted_at IS NOT NULL), '{}'),
               count(*) FILTER (WHERE o.status IN ('completed', 'reviewed')),
               count(*) FILTER (WHERE o.status = 'cancelled'),
               count(*) FILTER (WHERE o.escalation_level > 0),
               count(*) FILTER (WHERE o.status IN ('completed', 'reviewed', 'cancelled', 'escalated')),
               count(*) FILTER (WHERE o.arrived_at IS NOT NULL
                                OR (o.accepted_at IS NOT NULL AND o.status IN ('cancelled', 'escalated'))),
               count(*) FILTER (WHERE a.minutes <= 30),
               count(*) FILTER (WHERE a.minutes <= 45),
               count(*) FILTER (WHERE a.minutes <= 60),
               count(o.satisfaction),
               coalesce(sum(o.satisfaction), 0),
               coalesce(sum(m.minutes) FILTER (WHERE o.status IN ('completed', 'reviewed')), 0),
               coalesce(sum(round(m.minutes * st.subsidy_per_hour_fen / 60.0))
                        FILTER (WHERE o.status IN ('completed', 'reviewed')), 0)
        FROM service_order o
        JOIN elder e ON e.id = o.elder_id
        JOIN community c ON c.id = e.community_id
        JOIN service_type st ON st.code = o.service_type
        CROSS JOIN LATERAL (SELECT (o.created_at AT TIME ZONE tz)::date AS day) d
        CROSS JOIN LATERAL (
            SELECT extract(epoch FROM o.arrived_at - greatest(o.created_at, o.window_start)) / 60 AS minutes
        ) a
        CROSS JOIN LATERAL (
            SELECT coalesce(round(extract(epoch FROM o.completed_at - o.arrived_at) / 60)::integer,
                            o.duration_min) AS minutes
        ) m
        WHERE o.created_at >= (SELECT min(x)::timestamp AT TIME ZONE tz FROM unnest(order_days) x)
          AND o.created_at < (SELECT (max(x) + 1)::timestamp AT TIME ZONE tz FROM unnest(order_days) x)
          AND d.day = ANY (order_days)
        GROUP BY 1, 2, 3, 4;

        DELETE FROM kpi_order_slice WHERE day = ANY (order_days);
        INSERT INTO kpi_order_slice
        SELECT day,
               CASE WHEN GROUPING(service_type) = 0 THEN 'service_type' WHEN GROUPING(provider_id) = 0 THEN 'provider'
                    WHEN GROUPING(township_id) = 0 THEN 'township' ELSE 'all' END,
               coalesce(service_type, provider_id::text, township_id::text, 'all'),
               sum(orders), sum(accepted), array_cat_agg(accept_secs), sum(completed), sum(cancelled),
               sum(escalated), sum(closed), sum(arrival_measured), sum(arrived_30), sum(arrived_45), sum(arrived_60),
               sum(reviewed), sum(satisfaction_sum), sum(service_minutes), sum(subsidy_fen)
        FROM kpi_order_daily WHERE day = ANY (order_days)
        GROUP BY GROUPING SETS ((day), (day, service_type), (day, provider_id), (day, township_id));
    END IF;

    IF cardinality(alarm_days) > 0 THEN
        DELETE FROM kpi_alarm_daily WHERE day = ANY (alarm_days);
        INSERT INTO kpi_alarm_daily
        SELECT d.day, c.township_id, al.type, min(al.severity),
               count(*),
               count(al.acknowledged_at),
               count(*) FILTER (WHERE s.secs <= 60),
               count(*) FILTER (WHERE s.secs <= 180),
               coalesce(array_agg(s.secs) FILTER (WHERE s.secs IS NOT NULL), '{}'),
               count(*) FILTER (WHERE al.outcome = 'real_emergency'),
               count(*) FILTER (WHERE al.outcome = 'false_alarm')
        FROM alarm al
        JOIN elder e ON e.id = al.elder_id
        JOIN community c ON c.id = e.community_id
        CROSS JOIN LATERAL (SELECT (al.received_at AT TIME ZONE tz)::date AS day) d
        CROSS JOIN LATERAL (
            SELECT greatest(0, ceil(extract(epoch FROM al.acknowledged_at - al.received_at)))::integer AS secs
        ) s
        WHERE al.received_at >= (SELECT min(x)::timestamp AT TIME ZONE tz FROM unnest(alarm_days) x)
          AND al.received_at < (SELECT (max(x) + 1)::timestamp AT TIME ZONE tz FROM unnest(alarm_days) x)
          AND d.day = ANY (alarm_days)
        GROUP BY 1, 2, 3;

        DELETE FROM kpi_alarm_slice WHERE day = ANY (alarm_days);
        INSERT INTO kpi_alarm_slice
        SELECT day, CASE WHEN GROUPING(township_id) = 0 THEN 'township' ELSE 'all' END,
               coalesce(township_id::text, 'all'), sum(raised), sum(acknowledged), sum(ack_60), sum(ack_180),
               array_cat_agg(ack_secs), sum(real_emergency), sum(false_alarm)
        FROM kpi_alarm_daily WHERE day = ANY (alarm_days) AND severity <> 'info'
        GROUP BY GROUPING SETS ((day), (day, township_id));
    END IF;

    UPDATE kpi_setting SET refreshed_at = clock_timestamp();
    RETURN cardinality(order_days) + cardinality(alarm_days);
END
$$;

-- the order list filtered by provider; orders awaiting their return visit; the board's recently finished
CREATE INDEX service_order_provider_idx ON service_order (provider_id, created_at);
CREATE INDEX service_order_completed_idx ON service_order (completed_at) WHERE status IN ('completed', 'reviewed');
CREATE INDEX service_order_updated_idx ON service_order (updated_at);
CREATE INDEX alarm_received_idx ON alarm (received_at);
