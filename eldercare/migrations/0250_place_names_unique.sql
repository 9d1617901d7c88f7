-- One township of a name in the city, and one community of a name in its township. The register finds an elder's
-- community by those names (`eldercare.register.elders.community_id`), as the roster's areas and the imports do,
-- and with two places of one name it took either. The imports refuse a second place of one name already; this keeps
-- every other way in (a script, a row made by hand) from making one. A database that holds such a pair is not
-- changed: the migration stops and names them, to be renamed (or merged) first.
DO $$
DECLARE
    pairs text;
BEGIN
    SELECT string_agg(format('%L (%s)', name, codes), '; ') INTO pairs
    FROM (SELECT name, string_agg(code, ', ' ORDER BY code) AS codes FROM township GROUP BY name HAVING count(*) > 1) d;
    IF pairs IS NOT NULL THEN
        RAISE EXCEPTION 'townships of one name: %', pairs
            USING HINT = 'rename all but one of each (UPDATE township SET name = ... WHERE code = ...), then migrate again';
    END IF;
    SELECT string_agg(format('%L in %s (%s)', c.name, t.code, c.codes), '; ') INTO pairs
    FROM (SELECT township_id, name, string_agg(code, ', ' ORDER BY code) AS codes
          FROM community GROUP BY township_id, name HAVING count(*) > 1) c
    JOIN township t ON t.id = c.township_id;
    IF pairs IS NOT NULL THEN
        RAISE EXCEPTION 'communities of one name in one township: %', pairs
            USING HINT = 'rename all but one of each (UPDATE community SET name = ... WHERE code = ...), then migrate again';
    END IF;
END $$;

ALTER TABLE township ADD CONSTRAINT township_name_key UNIQUE (name);
ALTER TABLE community ADD CONSTRAINT community_township_name_key UNIQUE (township_id, name);
