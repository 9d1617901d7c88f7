-- The TimescaleDB path of 0003, as it behaves once run for real (plain PostgreSQL is left as it is):
--
-- * `reading_hourly` answers in real time. TimescaleDB 2.13+ creates continuous aggregates
--   materialised-only, so the elder's chart showed nothing newer than the refresh policy's last run (and,
--   for readings the policy's three-day window never covered, nothing at all). Real-time aggregation adds
--   the not yet materialised buckets from `reading` itself, as the plain rollup's refresh would.
-- * Old hourly rollups are dropped with the readings they summarise (400 days), as on plain PostgreSQL,
--   where drop_reading_partitions_before() deletes them; without this policy they grew forever.
-- * Compressed batches of `reading` carry one bloom filter, on elder_id, which lets the elder's queries skip
--   other elders' batches. By default TimescaleDB derives composite blooms from the indexes, (ts, seq) and
--   (elder_id, ts), which ts's min/max per batch mostly answers already; they took about a tenth of the
--   compressed size (2.4 of 26.6 bytes a reading, see benchmarks/bench_storage.py). Chunks compressed
--   before keep theirs until recompressed.

DO $migration$
BEGIN
    IF (SELECT value FROM storage_info WHERE key = 'engine') = 'timescaledb' THEN
        ALTER MATERIALIZED VIEW reading_hourly SET (timescaledb.materialized_only = false);
        PERFORM add_retention_policy('reading_hourly', INTERVAL '400 days', if_not_exists => true);
        ALTER TABLE reading SET (timescaledb.sparse_index = 'bloom(elder_id)');
    END IF;
END
$migration$;
