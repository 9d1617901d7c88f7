-- An alarm about an order (an escalated order: 'order_escalated') links that order, and each order has its own
-- live alarm: two escalated orders of one elder are two alarms, never one merged card. Alarms about no order
-- keep one live alarm per elder and type. (An emergency order links the alarm that raised it the other way,
-- service_order.alarm_id.)
ALTER TABLE alarm ADD COLUMN order_id bigint REFERENCES service_order(id);

UPDATE alarm SET order_id = (details->>'order_id')::bigint
WHERE type = 'order_escalated' AND details ? 'order_id'
  AND EXISTS (SELECT 1 FROM service_order o WHERE o.id = (alarm.details->>'order_id')::bigint);

DROP INDEX alarm_one_live_per_elder_type;
CREATE UNIQUE INDEX alarm_one_live_per_elder_type_order ON alarm (elder_id, type, (coalesce(order_id, 0)))
    WHERE status <> 'resolved';
CREATE INDEX alarm_order_idx ON alarm (order_id) WHERE order_id IS NOT NULL;
