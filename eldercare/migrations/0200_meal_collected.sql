-- A meal collected at its kitchen (dispatcher/planning, "Meals in batches"): when a caregiver sets off for a
-- meal the day's plan has them collect at a kitchen, they go by the kitchen and take every meal of that batch
-- (the plan's meals of theirs collected there at the same time). From then on those meals are carried: a
-- re-plan of the day delivers them from where the caregiver is, with no second trip to the kitchen.
-- NULL for meals not collected yet and for every other order.
ALTER TABLE service_order ADD COLUMN collected_at timestamptz;
