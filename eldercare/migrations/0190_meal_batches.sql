-- Meals in batches (dispatcher/planning): a meal cooked in a provider's kitchen is collected there and
-- delivered to the elder's home by a caregiver of that provider. The plan keeps, per meal, the kitchen and the
-- planned time of collecting it; the meals a caregiver collects together share that time (a batch).
-- NULL for other visits and for meals taken from the caregiver's home (a provider without a kitchen).
ALTER TABLE plan_visit
    ADD COLUMN kitchen_provider_id bigint REFERENCES provider(id),
    ADD COLUMN pickup_at timestamptz,
    ADD CONSTRAINT plan_visit_pickup_kitchen CHECK (
        pickup_at IS NULL OR (kitchen_provider_id IS NOT NULL AND caregiver_id IS NOT NULL)
    );
