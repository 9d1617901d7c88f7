-- an operator's pin: the caregiver a planned visit must stay with in every re-plan of its day while they are
-- still eligible (dispatcher/planning, the plan board); carried from a plan to the one that supersedes it
ALTER TABLE plan_visit ADD COLUMN pinned_to bigint REFERENCES caregiver(id);
