-- The elder register (建档): identity, living situation, eligibility decisions, the ability assessment
-- history, care notes shown to a responding caregiver, and deactivation with its reason and date.

ALTER TABLE elder
    -- resident ID number (GB 11643), checked by eldercare.register before it is written
    ADD COLUMN resident_id text CHECK (resident_id ~ '^[0-9]{17}[0-9X]$'),
    ADD COLUMN living_situation text NOT NULL DEFAULT 'with_family'
        CHECK (living_situation IN ('alone', 'with_spouse', 'with_family', 'left_behind')),
    ADD COLUMN medical_notes text NOT NULL DEFAULT '',
    ADD COLUMN medications text NOT NULL DEFAULT '',
    ADD COLUMN allergies text NOT NULL DEFAULT '',
    -- key safe, door code: for the caregiver holding a live order for the elder, nobody else in the field
    ADD COLUMN home_access_notes text NOT NULL DEFAULT '',
    ADD COLUMN inactive_reason text
        CHECK (inactive_reason IN ('deceased', 'moved_away', 'in_hospital', 'in_care_home')),
    ADD COLUMN inactive_since date,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT elder_inactive_reason_dated CHECK ((inactive_reason IS NULL) = (inactive_since IS NULL));
UPDATE elder SET living_situation = CASE WHEN lives_alone THEN 'alone' WHEN left_behind THEN 'left_behind'
                                         ELSE 'with_family' END;
CREATE UNIQUE INDEX elder_resident_id_uq ON elder (resident_id) WHERE resident_id IS NOT NULL;
CREATE INDEX elder_phone_idx ON elder (phone) WHERE phone IS NOT NULL;

-- each decision that puts an elder in a category (特困, 低保, ...): when and by which document
CREATE TABLE elder_eligibility (
    elder_id     bigint NOT NULL REFERENCES elder(id) ON DELETE CASCADE,
    category     text NOT NULL CHECK (category IN (
                     'extreme_poverty', 'min_allowance', 'low_income', 'very_old', 'disabled',
                     'partly_disabled', 'solitary', 'bereaved_only_child_family')),
    decided_on   date NOT NULL,
    document_no  text NOT NULL CHECK (length(document_no) BETWEEN 1 AND 64),
    PRIMARY KEY (elder_id, category)
);

-- 老年人能力评估 (GB/T 42195-2022): every assessment is kept; elder.ability_level is the latest one's level
CREATE TABLE assessment (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    elder_id     bigint NOT NULL REFERENCES elder(id) ON DELETE CASCADE,
    assessed_on  date NOT NULL,
    level        smallint NOT NULL CHECK (level BETWEEN 0 AND 4),
    assessors    text[] NOT NULL CHECK (cardinality(assessors) BETWEEN 1 AND 4),
    -- first-level indicator scores: self_care, mobility, mental_state, perception_social
    scores       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(scores) = 'object'),
    notes        text NOT NULL DEFAULT '',
    recorded_by  text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assessment_elder_idx ON assessment (elder_id, assessed_on);

-- a contact taken off the list goes; the messages sent to it stay, with their phone number
ALTER TABLE sms_message DROP CONSTRAINT sms_message_contact_id_fkey,
    ADD CONSTRAINT sms_message_contact_id_fkey FOREIGN KEY (contact_id) REFERENCES emergency_contact(id)
        ON DELETE SET NULL;
