-- Device events and alarms. Readings, the time series, come in 0003.

-- every event message a device sent (sos, fall, smoke, ...), stored once per device and seq
CREATE TABLE device_event (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id    text NOT NULL REFERENCES device(id),
    elder_id     bigint NOT NULL REFERENCES elder(id),
    seq          bigint NOT NULL CHECK (seq >= 0),
    type         text NOT NULL,
    ts           timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    lat          double precision CHECK (lat BETWEEN -90 AND 90),
    lon          double precision CHECK (lon BETWEEN -180 AND 180),
    details      jsonb NOT NULL DEFAULT '{}',
    alarm_id     bigint,
    UNIQUE (device_id, seq)
);
CREATE INDEX device_event_elder_idx ON device_event (elder_id, ts);

CREATE TABLE alarm_type (
    code      text PRIMARY KEY,
    severity  text NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    -- a critical alarm creates an emergency order at once and tells the family
    name_zh   text NOT NULL,
    name_en   text NOT NULL
);
INSERT INTO alarm_type (code, severity, name_zh, name_en) VALUES
    ('sos',            'critical', '紧急呼叫',     'SOS'),
    ('fall',           'critical', '跌倒',         'Fall'),
    ('smoke',          'critical', '烟雾报警',     'Smoke'),
    ('gas',            'critical', '燃气泄漏',     'Gas leak'),
    ('hr_high',        'warning',  '心率过高',     'Heart rate high'),
    ('hr_low',         'warning',  '心率过低',     'Heart rate low'),
    ('spo2_low',       'warning',  '血氧过低',     'SpO2 low'),
    ('bp_high',        'warning',  '血压过高',     'Blood pressure high'),
    ('bp_low',         'warning',  '血压过低',     'Blood pressure low'),
    ('temp_high',      'warning',  '体温过高',     'Temperature high'),
    ('geofence_exit',  'warning',  '离开安全区域', 'Left safe area'),
    ('door_night',     'warning',  '夜间开门',     'Door opened at night'),
    ('no_motion',      'warning',  '长时间无活动', 'No motion'),
    ('battery_low',    'info',     '电量低',       'Battery low'),
    ('device_offline', 'info',     '设备离线',     'Device offline'),
    ('order_escalated','critical', '工单升级',     'Order escalated');

CREATE TABLE alarm (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    elder_id          bigint NOT NULL REFERENCES elder(id),
    device_id         text REFERENCES device(id),
    type              text NOT NULL REFERENCES alarm_type(code),
    severity          text NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
    raised_at         timestamptz NOT NULL,            -- first occurrence (device time when known)
    received_at       timestamptz NOT NULL DEFAULT now(),
    last_raised_at    timestamptz NOT NULL,            -- latest repeat
    repeat_count      integer NOT NULL DEFAULT 0 CHECK (repeat_count >= 0),
    acknowledged_at   timestamptz,
    acknowledged_by   text,
    resolved_at       timestamptz,
    resolved_by       text,
    outcome           text CHECK (outcome IN ('real_emergency', 'false_alarm', 'test', 'device_fault')),
    note              text NOT NULL DEFAULT '',
    lat               double precision CHECK (lat BETWEEN -90 AND 90),
    lon               double precision CHECK (lon BETWEEN -180 AND 180),
    details           jsonb NOT NULL DEFAULT '{}',
    CHECK (status = 'open' OR acknowledged_at IS NOT NULL),
    CHECK (status <> 'resolved' OR (resolved_at IS NOT NULL AND outcome IS NOT NULL))
);
-- one live (open or acknowledged) alarm per elder and type: repeats update it
CREATE UNIQUE INDEX alarm_one_live_per_elder_type ON alarm (elder_id, type) WHERE status <> 'resolved';
CREATE INDEX alarm_raised_idx ON alarm (raised_at);
CREATE INDEX alarm_status_idx ON alarm (status, raised_at) WHERE status <> 'resolved';
CREATE INDEX alarm_elder_idx ON alarm (elder_id, raised_at);

ALTER TABLE device_event ADD CONSTRAINT device_event_alarm_fk FOREIGN KEY (alarm_id) REFERENCES alarm(id);
