-- The statistics of the index 0240 made (``service_order_caregiver_ended_idx``), gathered at once: until they are,
-- PostgreSQL cannot tell how few of a caregiver's orders stopped lately, takes an emergency's matching query for
-- one that reads each candidate's history, and, where it can compile queries (JIT), spends a second doing so on
-- every SOS. Left to autovacuum, that waits until a tenth of the table has changed: weeks, on a city's year of
-- orders.
ANALYZE service_order;
