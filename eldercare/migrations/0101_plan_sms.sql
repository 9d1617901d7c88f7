-- the evening SMS that tells a caregiver their planned day (dispatcher/planning/confirm.py)
ALTER TABLE sms_message DROP CONSTRAINT sms_message_purpose_check;
ALTER TABLE sms_message ADD CONSTRAINT sms_message_purpose_check CHECK (purpose IN (
    'offer', 'offer_reply', 'offer_taken', 'family', 'manager', 'operator', 'help', 'reply', 'plan'));
