-- LISTEN/NOTIFY: every change to an alarm or an order is announced in the same transaction that makes it,
-- whoever makes it (gateway, dispatcher, dashboard), so listeners never miss one and never see one early.
-- Channels and payloads (JSON) are a contract between components:
--   eldercare_alarm  {"id", "elder_id", "type", "severity", "status", "op"}
--   eldercare_order  {"id", "elder_id", "service_type", "status", "op"}

CREATE FUNCTION notify_alarm() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('eldercare_alarm', json_build_object(
        'id', NEW.id, 'elder_id', NEW.elder_id, 'type', NEW.type, 'severity', NEW.severity,
        'status', NEW.status, 'op', lower(TG_OP))::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER alarm_notify AFTER INSERT OR UPDATE ON alarm
    FOR EACH ROW EXECUTE FUNCTION notify_alarm();

CREATE FUNCTION notify_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status = OLD.status AND NEW.caregiver_id IS NOT DISTINCT FROM OLD.caregiver_id THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('eldercare_order', json_build_object(
        'id', NEW.id, 'elder_id', NEW.elder_id, 'service_type', NEW.service_type,
        'status', NEW.status, 'op', lower(TG_OP))::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER service_order_notify AFTER INSERT OR UPDATE ON service_order
    FOR EACH ROW EXECUTE FUNCTION notify_order();
