-- The monitoring desk: an operator takes ownership of a live alarm, and operators write notes on it as they
-- work it (calls made, who answered); the notes stay with the alarm after it is resolved.
ALTER TABLE alarm ADD COLUMN owner text;
ALTER TABLE alarm ADD COLUMN owned_at timestamptz;
ALTER TABLE alarm ADD CONSTRAINT alarm_owner_with_time CHECK ((owner IS NULL) = (owned_at IS NULL));

CREATE TABLE alarm_note (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alarm_id  bigint NOT NULL REFERENCES alarm(id),
    at        timestamptz NOT NULL,
    author    text NOT NULL,
    text      text NOT NULL CHECK (length(btrim(text)) BETWEEN 1 AND 1000)
);
CREATE INDEX alarm_note_alarm_idx ON alarm_note (alarm_id, at);
