-- A caregiver's orders that are still running or stopped lately (dispatcher/candidates.py, ``ENDED``): where an
-- emergency reckons them to be and how long they worked in the last 24 hours are read from these, by an index range
-- scan, rather than from their whole history (a year of a caregiver's orders, some 1,500, read for each of 30-odd
-- candidates made an emergency's matching take over a second). Not partial: PostgreSQL estimates a range of the
-- expression from the statistics of a whole index only, and a range it cannot estimate made the matching query
-- look costly enough to be compiled (JIT) on every emergency, another second.
CREATE INDEX service_order_caregiver_ended_idx
    ON service_order (caregiver_id, (coalesce(completed_at, cancelled_at, 'infinity'::timestamptz)));
