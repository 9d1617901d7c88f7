-- The device register: a device may be enrolled before it is given to an elder, is bound to one elder at a
-- time, and the history of its bindings is kept, so that every reading belongs to the elder the device was
-- bound to when it arrived. Its broker credential can be rotated and revoked.

-- device.elder_id is the current binding (NULL: unbound); device_binding keeps every binding, past and open.
ALTER TABLE device ALTER COLUMN elder_id DROP NOT NULL;
-- the maker's serial number or the IMEI, unique across the fleet when given
ALTER TABLE device ADD COLUMN serial text CHECK (serial ~ '^[A-Za-z0-9_.:/-]{1,64}$');
CREATE UNIQUE INDEX device_serial_key ON device (serial);
-- the credential: secret_hash (never the secret) is in Mosquitto's own $7$ format for credentials the
-- register made; a revoked credential lets the device in nowhere until a new one is issued
ALTER TABLE device ADD COLUMN credential_issued_at timestamptz DEFAULT now();
ALTER TABLE device ADD COLUMN credential_revoked_at timestamptz;

CREATE TABLE device_binding (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id   text NOT NULL REFERENCES device(id),
    elder_id    bigint NOT NULL REFERENCES elder(id),
    bound_at    timestamptz NOT NULL,
    unbound_at  timestamptz CHECK (unbound_at >= bound_at),
    bound_by    text NOT NULL,
    unbound_by  text,
    -- why the binding ended: unbound, replaced, revoked ...
    end_reason  text
);
-- at most one open binding per device
CREATE UNIQUE INDEX device_binding_open_key ON device_binding (device_id) WHERE unbound_at IS NULL;
CREATE INDEX device_binding_device_idx ON device_binding (device_id, bound_at);
CREATE INDEX device_binding_elder_idx ON device_binding (elder_id, bound_at);

-- the devices that exist already have been bound since they were registered
INSERT INTO device_binding (device_id, elder_id, bound_at, bound_by)
SELECT id, elder_id, registered_at, 'migration' FROM device WHERE elder_id IS NOT NULL;
