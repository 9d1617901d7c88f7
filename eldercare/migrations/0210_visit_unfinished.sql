-- A visit arrived at and not reported done long after its booked time (dispatcher/escalation.py, ``unfinished``):
-- the caregiver is reminded by SMS and the operators see this alarm on their board, linked to the order, once per
-- order. The caregiver may have forgotten to reply DONE, or something is wrong at the elder's.
INSERT INTO alarm_type (code, severity, name_zh, name_en)
VALUES ('visit_unfinished', 'warning', '服务未报完成', 'Visit not reported done');
