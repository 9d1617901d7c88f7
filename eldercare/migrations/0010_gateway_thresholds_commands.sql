-- Gateway: per-elder alarm thresholds are checked here too, and device commands can fail for good.

-- elder.thresholds overrides the gateway's defaults; only these keys, each a number (see gateway/rules.py):
--   hr_high, hr_low (beats/min), spo2_low (%), sbp_high, sbp_low, dbp_high (mmHg), temp_high (°C), battery_low (%)
CREATE FUNCTION alarm_thresholds_valid(thresholds jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(bool_and(
        key IN ('hr_high', 'hr_low', 'spo2_low', 'sbp_high', 'sbp_low', 'dbp_high', 'temp_high', 'battery_low')
        AND jsonb_typeof(value) = 'number'), true)
    FROM jsonb_each(thresholds)
$$;
ALTER TABLE elder ADD CONSTRAINT elder_thresholds_known CHECK (alarm_thresholds_valid(thresholds));

-- A command the gateway will never send (invalid, or too old to mean anything to the elder) is closed with
-- failed_at and the reason, so that the sweep does not pick it up again.
ALTER TABLE device_command
    ADD COLUMN failed_at timestamptz,
    ADD COLUMN error text,
    ADD CONSTRAINT device_command_sent_or_failed CHECK (sent_at IS NULL OR failed_at IS NULL);
DROP INDEX device_command_unsent_idx;
CREATE INDEX device_command_pending_idx ON device_command (id) WHERE sent_at IS NULL AND failed_at IS NULL;
