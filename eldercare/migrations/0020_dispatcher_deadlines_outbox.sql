-- What the dispatcher needs beyond 0004: a deadline for the next offer, an SMS outbox with retry times and
-- its own NOTIFY channel, and a spatial index for choosing caregivers near an elder.

-- When the dispatcher should next try to offer the order (now for a new order, later after candidates ran
-- out); NULL while an offer is live or once a caregiver holds the order. Swept like every other deadline.
ALTER TABLE service_order ADD COLUMN next_offer_at timestamptz;
CREATE INDEX service_order_next_offer_idx ON service_order (next_offer_at)
    WHERE next_offer_at IS NOT NULL AND status IN ('created', 'offered', 'escalated');

-- Outbound SMS are an outbox: a row is written in the transaction that decides to send, and sent after it
-- commits, so no transaction stays open across an HTTP call. A retryable failure (429, 5xx) puts the row
-- back to 'pending' with the time of its next attempt.
ALTER TABLE sms_message ADD COLUMN next_attempt_at timestamptz;
CREATE INDEX sms_message_outbox_idx ON sms_message (next_attempt_at, id)
    WHERE direction = 'outbound' AND status IN ('pending', 'sending');

--   eldercare_sms  <sms_message id>   a new outbound message waits to be sent
CREATE FUNCTION notify_sms() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('eldercare_sms', NEW.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER sms_message_notify AFTER INSERT ON sms_message
    FOR EACH ROW WHEN (NEW.direction = 'outbound' AND NEW.status = 'pending')
    EXECUTE FUNCTION notify_sms();

-- Caregivers near a point: a GiST index over (lon, lat) answers bounding-box queries without PostGIS.
CREATE INDEX caregiver_home_point_idx ON caregiver USING gist (point(home_lon, home_lat)) WHERE active;

-- "Not already offered this order" and "has served this elder before" are asked for every candidate.
CREATE INDEX offer_order_caregiver_idx ON offer (order_id, caregiver_id);
CREATE INDEX service_order_elder_caregiver_idx ON service_order (elder_id, caregiver_id)
    WHERE status IN ('completed', 'reviewed');
