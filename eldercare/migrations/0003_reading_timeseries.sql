-- Wearable readings, the one time series. This is the only step that differs between storage engines:
--
-- * TimescaleDB (the extension is installed and preloaded): `reading` is a hypertable with one-day chunks,
--   compressed after 7 days, dropped after 400 days; `reading_hourly` is a continuous aggregate with its
--   refresh policy. The helper functions below are no-ops because TimescaleDB's own jobs do that work.
-- * Plain PostgreSQL 14+ (the embedded default and CI): `reading` is range-partitioned by day, with
--   partitions created ahead by ensure_reading_partitions() (run by migrate and by a daily maintenance
--   job) and a default partition so that no valid reading is ever refused for want of a partition;
--   `reading_hourly` is a table refreshed by refresh_reading_hourly(), run by the maintenance job.
--
-- Queries are the same on both: the same columns, `date_bin` for bucketing.

CREATE TABLE storage_info (
    key    text PRIMARY KEY,
    value  text NOT NULL
);

DO $migration$
DECLARE
    columns constant text := $cols$
        device_id    text NOT NULL REFERENCES device(id),
        elder_id     bigint NOT NULL REFERENCES elder(id),
        ts           timestamptz NOT NULL,
        received_at  timestamptz NOT NULL,
        seq          bigint NOT NULL CHECK (seq >= 0),
        hr           smallint CHECK (hr BETWEEN 20 AND 250),
        spo2         smallint CHECK (spo2 BETWEEN 50 AND 100),
        sbp          smallint CHECK (sbp BETWEEN 50 AND 260),
        dbp          smallint CHECK (dbp BETWEEN 30 AND 160),
        temp         real CHECK (temp BETWEEN 30 AND 45),
        steps        integer CHECK (steps BETWEEN 0 AND 200000),
        lat          double precision CHECK (lat BETWEEN -90 AND 90),
        lon          double precision CHECK (lon BETWEEN -180 AND 180),
        battery      smallint CHECK (battery BETWEEN 0 AND 100),
        -- a redelivered message is stored once; samples of one message differ by ts
        UNIQUE (device_id, ts, seq)
    $cols$;
    hourly_select constant text := $sel$
        SELECT device_id, elder_id, %s AS bucket,
               count(*) AS samples,
               avg(hr)::real AS hr_avg, min(hr) AS hr_min, max(hr) AS hr_max,
               avg(spo2)::real AS spo2_avg, min(spo2) AS spo2_min,
               avg(sbp)::real AS sbp_avg, max(sbp) AS sbp_max,
               avg(dbp)::real AS dbp_avg, max(dbp) AS dbp_max,
               avg(temp)::real AS temp_avg, max(temp) AS temp_max,
               max(steps) AS steps_max, min(battery) AS battery_min
        FROM reading
    $sel$;
    timescale boolean;
BEGIN
    timescale := EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
                 AND current_setting('shared_preload_libraries') LIKE '%timescaledb%';

    IF timescale THEN
        RAISE NOTICE 'timescaledb found: reading becomes a hypertable with compression and retention';
        CREATE EXTENSION IF NOT EXISTS timescaledb;
        EXECUTE format('CREATE TABLE reading (%s)', columns);
        PERFORM create_hypertable('reading', by_range('ts', INTERVAL '1 day'));
        ALTER TABLE reading SET (
            timescaledb.compress,
            timescaledb.compress_segmentby = 'device_id',
            timescaledb.compress_orderby = 'ts DESC, seq'
        );
        PERFORM add_compression_policy('reading', INTERVAL '7 days');
        PERFORM add_retention_policy('reading', INTERVAL '400 days');
        EXECUTE format(
            'CREATE MATERIALIZED VIEW reading_hourly WITH (timescaledb.continuous) AS %s '
            'GROUP BY device_id, elder_id, bucket WITH NO DATA',
            format(hourly_select, 'time_bucket(INTERVAL ''1 hour'', ts)'));
        PERFORM add_continuous_aggregate_policy('reading_hourly',
            start_offset => INTERVAL '3 days', end_offset => INTERVAL '10 minutes',
            schedule_interval => INTERVAL '10 minutes');
        INSERT INTO storage_info VALUES ('engine', 'timescaledb');
    ELSE
        RAISE NOTICE 'timescaledb not available: reading is range-partitioned by day on plain PostgreSQL';
        EXECUTE format('CREATE TABLE reading (%s) PARTITION BY RANGE (ts)', columns);
        CREATE TABLE reading_default PARTITION OF reading DEFAULT;
        EXECUTE format('CREATE TABLE reading_hourly AS %s GROUP BY device_id, elder_id, bucket WITH NO DATA',
            format(hourly_select, 'date_bin(INTERVAL ''1 hour'', ts, TIMESTAMPTZ ''2000-01-01'')'));
        ALTER TABLE reading_hourly ADD PRIMARY KEY (device_id, bucket);
        INSERT INTO storage_info VALUES ('engine', 'postgresql');
    END IF;
END
$migration$;

CREATE INDEX reading_elder_ts_idx ON reading (elder_id, ts DESC);
CREATE INDEX reading_hourly_elder_idx ON reading_hourly (elder_id, bucket DESC);

-- Create the daily partitions covering [from_day, to_day]; returns how many were created.
CREATE FUNCTION ensure_reading_partitions(from_day date, to_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    day date;
    created integer := 0;
    name text;
BEGIN
    IF (SELECT value FROM storage_info WHERE key = 'engine') = 'timescaledb' THEN
        RETURN 0;  -- TimescaleDB creates chunks itself
    END IF;
    FOR day IN SELECT generate_series(from_day, to_day, INTERVAL '1 day')::date LOOP
        name := format('reading_%s', to_char(day, 'YYYYMMDD'));
        CONTINUE WHEN to_regclass(name) IS NOT NULL;
        -- rows that landed in the default partition for this day move into the new partition
        EXECUTE format('CREATE TABLE %I (LIKE reading INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
        EXECUTE format(
            'WITH moved AS (DELETE FROM reading_default WHERE ts >= %L AND ts < %L RETURNING *) '
            'INSERT INTO %I SELECT * FROM moved', day::timestamptz, (day + 1)::timestamptz, name);
        EXECUTE format('ALTER TABLE reading ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
            name, day::timestamptz, (day + 1)::timestamptz);
        created := created + 1;
    END LOOP;
    RETURN created;
END
$$;

-- Drop daily partitions (and default-partition rows) wholly older than `before`; returns partitions dropped.
CREATE FUNCTION drop_reading_partitions_before(before timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    part record;
    dropped integer := 0;
BEGIN
    IF (SELECT value FROM storage_info WHERE key = 'engine') = 'timescaledb' THEN
        RETURN 0;  -- the retention policy does it
    END IF;
    FOR part IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'reading'::regclass AND c.relname ~ '^reading_[0-9]{8}$'
          AND to_date(substr(c.relname, 9), 'YYYYMMDD') + 1 <= before::date
    LOOP
        EXECUTE format('DROP TABLE %I', part.relname);
        dropped := dropped + 1;
    END LOOP;
    DELETE FROM reading_default WHERE ts < before;
    DELETE FROM reading_hourly WHERE bucket < before;
    RETURN dropped;
END
$$;

-- Recompute the hourly rollup for buckets that overlap [from_ts, to_ts).
CREATE FUNCTION refresh_reading_hourly(from_ts timestamptz, to_ts timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    start_bucket timestamptz := date_bin(INTERVAL '1 hour', from_ts, TIMESTAMPTZ '2000-01-01');
    rows integer;
BEGIN
    IF (SELECT value FROM storage_info WHERE key = 'engine') = 'timescaledb' THEN
        RETURN 0;  -- the continuous aggregate's policy does it
    END IF;
    DELETE FROM reading_hourly WHERE bucket >= start_bucket AND bucket < to_ts;
    INSERT INTO reading_hourly
    SELECT device_id, elder_id, date_bin(INTERVAL '1 hour', ts, TIMESTAMPTZ '2000-01-01') AS bucket,
           count(*), avg(hr)::real, min(hr), max(hr), avg(spo2)::real, min(spo2),
           avg(sbp)::real, max(sbp), avg(dbp)::real, max(dbp), avg(temp)::real, max(temp),
           max(steps), min(battery)
    FROM reading
    WHERE ts >= start_bucket AND ts < to_ts
    GROUP BY 1, 2, 3;
    GET DIAGNOSTICS rows = ROW_COUNT;
    RETURN rows;
END
$$;

SELECT ensure_reading_partitions(current_date - 2, current_date + 7);
