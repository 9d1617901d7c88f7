-- What a provider and a caregiver need to be matched, kept where the register writes them: a provider's
-- contract period and its prices; a caregiver's dated absences (leave, sick) over their weekly shifts.

ALTER TABLE provider
    ADD COLUMN contract_starts date,
    ADD COLUMN contract_ends   date,
    ADD CONSTRAINT provider_contract_order
        CHECK (contract_starts IS NULL OR contract_ends IS NULL OR contract_ends >= contract_starts);

-- price of one service, in fen (0.01 CNY); NULL where the contract has not set one
ALTER TABLE provider_service ADD COLUMN price_fen integer CHECK (price_fen >= 0);

-- whole local days a caregiver is away; they are offered nothing wanted on those days
CREATE TABLE caregiver_absence (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    caregiver_id  bigint NOT NULL REFERENCES caregiver(id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('leave', 'sick')),
    first_day     date NOT NULL,
    last_day      date NOT NULL,
    note          text NOT NULL DEFAULT '',
    CHECK (last_day >= first_day)
);
CREATE INDEX caregiver_absence_caregiver_idx ON caregiver_absence (caregiver_id, last_day);
