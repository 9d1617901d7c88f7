-- An event is identified by its delivery, (device, seq, ts), as a reading is: devices start their seq again
-- after a battery change or a factory reset, and keyed on (device, seq) alone a new SOS with a reused seq was
-- dropped as a copy of an old one. A broker's redelivery repeats seq and ts, so it is still stored once.
ALTER TABLE device_event DROP CONSTRAINT device_event_device_id_seq_key;
ALTER TABLE device_event ADD CONSTRAINT device_event_delivery_key UNIQUE (device_id, seq, ts);
