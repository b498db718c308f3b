-- Digit searches (a phone's last four digits, "user4242") through the
-- trigram index were slow at 1M customers: digits make only 1,000
-- trigrams, each in a large share of the phones and email numbers, so the
-- index returned hundreds of false candidates to recheck, and "user4242"
-- read the posting lists of "use" and "ser" (every customer): 11 ms and
-- 41 ms for the index alone. search_digits holds every four-digit window
-- of every run of digits in the search text, as its value ("0042" is 42:
-- 10,000 possible keys), so a query with a run of four or more digits finds
-- through its GIN index just the customers holding all of its windows
-- (listDigitSearchPostgres in internal/store/search_postgres.go; its
-- searchDigitGrams must compute the same keys). A stored column rather
-- than an index on the expression: the planner keeps statistics of the
-- array's elements, so it can choose between the index (rare windows) and
-- walking the newest customers (common ones), and a row it filters costs
-- an array test, not the function's ~20 µs.
--
-- Adding the column rewrites the table and rebuilds its indexes: 79 s at
-- 1M customers (2 shared cores, load average 3.5–4).
CREATE FUNCTION search_digit_grams(search TEXT) RETURNS SMALLINT[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ARRAY(
        SELECT DISTINCT CAST(substr(m[1], i, 4) AS SMALLINT)
        FROM regexp_matches(search, '[0-9]{4,}', 'g') AS m, generate_series(1, length(m[1]) - 3) AS i);

ALTER TABLE customers ADD COLUMN search_digits SMALLINT[] GENERATED ALWAYS AS (search_digit_grams(search)) STORED;
CREATE INDEX customers_search_digits ON customers USING gin (search_digits);

-- The planner needs the new column's statistics to choose its index.
ANALYZE customers;
