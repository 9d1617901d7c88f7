-- Entitlements (a table the bureau edits: per eligibility category and ability level, a monthly package of one
-- service) and the monthly settlement with each provider: drafted from verified visits, confirmed by the provider,
-- approved by an admin, then locked; a correction after approval is a new line in a later month.

CREATE TABLE entitlement (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category           text NOT NULL CHECK (category IN (
                           'extreme_poverty', 'min_allowance', 'low_income', 'very_old', 'disabled',
                           'partly_disabled', 'solitary', 'bereaved_only_child_family')),
    min_ability_level  smallint NOT NULL DEFAULT 0 CHECK (min_ability_level BETWEEN 0 AND 4),
    service_type       text NOT NULL REFERENCES service_type(code),
    unit               text NOT NULL CHECK (unit IN ('visits', 'hours')),
    monthly_amount     numeric(6, 1) NOT NULL CHECK (monthly_amount > 0 AND monthly_amount <= 744),
    -- the bureau's share of the price; the elder pays the rest (co-payment)
    subsidy_share      numeric(4, 3) NOT NULL CHECK (subsidy_share BETWEEN 0 AND 1),
    example            boolean NOT NULL DEFAULT false,
    note               text NOT NULL DEFAULT '',
    updated_by         text NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (category, min_ability_level, service_type)
);
-- examples for a first look, to be replaced by the bureau's own table (shown as examples until edited)
INSERT INTO entitlement (category, min_ability_level, service_type, unit, monthly_amount, subsidy_share, example,
                         note, updated_by) VALUES
    ('extreme_poverty', 0, 'meal', 'visits', 30, 1.000, true, '示例 / example', 'migration'),
    ('extreme_poverty', 0, 'cleaning', 'visits', 4, 1.000, true, '示例 / example', 'migration'),
    ('min_allowance', 0, 'meal', 'visits', 20, 0.800, true, '示例 / example', 'migration'),
    ('disabled', 3, 'care', 'hours', 30, 0.900, true, '示例 / example', 'migration'),
    ('partly_disabled', 1, 'care', 'hours', 12, 0.700, true, '示例 / example', 'migration'),
    ('very_old', 0, 'meal', 'visits', 10, 0.500, true, '示例 / example', 'migration'),
    ('solitary', 0, 'cleaning', 'visits', 2, 0.800, true, '示例 / example', 'migration'),
    ('solitary', 0, 'medical', 'visits', 2, 0.800, true, '示例 / example', 'migration');

CREATE TABLE settlement_month (
    provider_id   bigint NOT NULL REFERENCES provider(id),
    month         date NOT NULL CHECK (extract(day FROM month) = 1),
    status        text NOT NULL CHECK (status IN ('confirmed', 'approved')),
    confirmed_by  text NOT NULL,
    confirmed_at  timestamptz NOT NULL,
    approved_by   text,
    approved_at   timestamptz,
    PRIMARY KEY (provider_id, month),
    CHECK ((status = 'approved') = (approved_at IS NOT NULL))
);

-- the lines of an approved month, frozen as they were approved; never updated or deleted
CREATE TABLE settlement_line (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_id       bigint NOT NULL,
    month             date NOT NULL,
    order_id          bigint NOT NULL REFERENCES service_order(id),
    kind              text NOT NULL CHECK (kind IN ('visit', 'correction')),
    elder_id          bigint NOT NULL REFERENCES elder(id),
    service_type      text NOT NULL,
    visit_day         date NOT NULL,
    arrived_at        timestamptz,
    completed_at      timestamptz,
    arrival_check     text,
    completion_check  text,
    verification      text NOT NULL,
    category          text NOT NULL DEFAULT '',
    entitlement_used  numeric(8, 3) NOT NULL DEFAULT 0,
    price_fen         bigint NOT NULL,
    subsidy_fen       bigint NOT NULL,
    copayment_fen     bigint NOT NULL,
    FOREIGN KEY (provider_id, month) REFERENCES settlement_month (provider_id, month)
);
CREATE INDEX settlement_line_month ON settlement_line (provider_id, month);
CREATE INDEX settlement_line_order ON settlement_line (order_id);

CREATE FUNCTION settlement_line_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'settlement lines are never changed; a correction is a new line in a later month';
END $$;
CREATE TRIGGER settlement_line_frozen BEFORE UPDATE OR DELETE ON settlement_line
    FOR EACH ROW EXECUTE FUNCTION settlement_line_frozen();
CREATE INDEX visit_completed ON visit (completed_at);
