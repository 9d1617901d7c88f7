-- The orders its caregivers hold, by provider: a provider takes no new order at its capacity, and every order's
-- matching counts each eligible provider's (dispatcher/candidates.py, ``_SETUP``; the roster pages show the same
-- count). The index on the provider and the time an order was made read each provider's whole history for it (a
-- year of a city's orders, some 2,700 a provider, read for each of 18 providers: 21 ms of every SOS); this one
-- holds only the orders held now. Its predicate is ``eldercare.vocabulary.HELD_SQL``, word for word, as the
-- queries' must imply it.
CREATE INDEX service_order_held_idx ON service_order (provider_id)
    WHERE (status IN ('accepted', 'en_route', 'arrived') OR (status = 'escalated' AND arrived_at IS NULL));
