-- Accounts scoped to an area: an operator limited to one township or one community sees and acts only on
-- the elders there, and on what belongs to them (orders, alarms, devices, recurring services, checks).
-- Neither set: the whole city. Enforced by the dashboard in one place (dashboard/scope.py).

ALTER TABLE operator
    ADD COLUMN township_id  smallint REFERENCES township(id),
    ADD COLUMN community_id integer REFERENCES community(id),
    ADD CONSTRAINT operator_one_area CHECK (num_nonnulls(township_id, community_id) <= 1);
