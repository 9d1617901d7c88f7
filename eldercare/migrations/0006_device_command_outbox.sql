-- Messages for devices (the MQTT `cmd` topic), written by any component in its own transaction and
-- published by the gateway, so that "help is on the way" is sent exactly when the order change commits.
-- The gateway LISTENs on `eldercare_device_command` and also sweeps unsent rows after a restart.

CREATE TABLE device_command (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id   text NOT NULL REFERENCES device(id),
    type        text NOT NULL,                 -- e.g. alarm_received, help_coming, help_arrived
    payload     jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    created_at  timestamptz NOT NULL,
    sent_at     timestamptz,
    attempts    smallint NOT NULL DEFAULT 0
);
CREATE INDEX device_command_unsent_idx ON device_command (id) WHERE sent_at IS NULL;

CREATE FUNCTION notify_device_command() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('eldercare_device_command', NEW.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER device_command_notify AFTER INSERT ON device_command
    FOR EACH ROW EXECUTE FUNCTION notify_device_command();
