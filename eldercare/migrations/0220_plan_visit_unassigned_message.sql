-- Why a visit is in nobody's route, as the sentence it was made (its English text, a message id of the catalogue,
-- and the values of its fields): the plan board shows it in the operator's language, with its particulars (which
-- caregiver, how many visits, which hours). ``unassigned_detail`` stays the English, for the API and exports.
ALTER TABLE plan_visit ADD COLUMN unassigned_message jsonb;
