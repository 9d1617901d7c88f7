-- Township ids as integer, like every other id. An import's dry run (and an import refused for its problems)
-- writes its rows and rolls them back, and a rolled-back row still draws its identity value: with smallint ids,
-- some 33,000 dry-run townships in all left no id for a real one. Changing the identity column's type changes
-- its sequence's with it.
ALTER TABLE township ALTER COLUMN id TYPE integer;
ALTER TABLE community ALTER COLUMN township_id TYPE integer;
ALTER TABLE operator ALTER COLUMN township_id TYPE integer;
ALTER TABLE spot_check_plan ALTER COLUMN township_id TYPE integer;
ALTER TABLE kpi_order_daily ALTER COLUMN township_id TYPE integer;
ALTER TABLE kpi_alarm_daily ALTER COLUMN township_id TYPE integer;
