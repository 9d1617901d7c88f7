-- Emergencies are offered to several caregivers at once; the first to accept takes the order (the row lock
-- on service_order decides) and the others are told it is taken. A caregiver still has at most one live
-- offer per order; how many an order has at once is the dispatcher's decision, made under that lock.
DROP INDEX offer_one_live_per_order;
CREATE UNIQUE INDEX offer_one_live_per_caregiver_order ON offer (order_id, caregiver_id)
    WHERE status IN ('pending', 'sent');

-- the word to the others of a race: the order was taken by someone else
ALTER TABLE sms_message DROP CONSTRAINT sms_message_purpose_check;
ALTER TABLE sms_message ADD CONSTRAINT sms_message_purpose_check CHECK (purpose IN (
    'offer', 'offer_reply', 'offer_taken', 'family', 'manager', 'operator', 'help', 'reply'));
