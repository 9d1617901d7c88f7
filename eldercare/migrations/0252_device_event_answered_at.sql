-- When the platform last told the device that it has the alarm of this event (an ``alarm_received`` on its cmd
-- topic). A device repeats an SOS or a fall until it hears back, so a repeat of an event stored before is answered
-- again, at most once in ``gateway.events.ANSWER_AGAIN_AFTER``: a burst of copies (a broker's redelivery, a
-- device gone wrong) queues one answer, not one per copy. Events stored before this column were answered when
-- they were stored (NULL: no time kept).
ALTER TABLE device_event ADD COLUMN answered_at timestamptz;
