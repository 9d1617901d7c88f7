-- An alarm nobody has acknowledged counted as answered in 0 s: greatest(0, NULL) is 0 in PostgreSQL, so the
-- answer time of an unacknowledged alarm came out as zero instead of NULL. The refresh is redefined with the
-- fix, and every day with alarms is marked for recomputation.

CREATE OR REPLACE FUNCTION refresh_kpi_rollups() RETURNS integer LANGUAGE plpgsql AS $$
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
            -- NULL while unacknowledged (greatest() skips NULLs, so it must not wrap the difference)
            SELECT CASE WHEN al.acknowledged_at IS NOT NULL
                        THEN greatest(0, ceil(extract(epoch FROM al.acknowledged_at - al.received_at)))::integer
                   END AS secs
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

INSERT INTO kpi_dirty_day (kind, day)
SELECT DISTINCT 'alarm', (received_at AT TIME ZONE (SELECT timezone FROM kpi_setting))::date FROM alarm
ON CONFLICT DO NOTHING;
