-- Keys for the searches the trigram index answers badly at 1M customers.
--
-- Digits (a phone's last four digits, "user4242"): digits make only 1,000
-- trigrams, each in a large share of the phones and email numbers, so the
-- index returned hundreds of false candidates to recheck, and "user4242"
-- read the posting lists of "use" and "ser" (every customer): 11 ms and
-- 41 ms for the index alone. search_digits holds every four-digit window
-- of every run of digits in the search text, as its value ("0042" is 42:
-- 10,000 possible keys).
--
-- Han names (张伟): a query of two characters has no trigram, so it was
-- looked up by its pinyin ("zhangwei", whose trigrams "ang", "han", "wei"
-- are in a large share of the names) and then filtered. search_han_pairs
-- holds every pair of adjacent Han characters of the search text (first
-- * 2^21 + second). (Single characters are left out: the common ones (王)
-- fill a page from the newest customers faster than an index finds them.)
--
-- A query finds through the GIN indexes just the customers holding all of
-- its keys (listGramSearchPostgres in internal/store/search_postgres.go,
-- whose searchDigitGrams and searchHanPairs must compute the same keys).
-- Stored columns rather than indexes on the expressions: the planner keeps
-- statistics of an array column's elements, so it can choose between the
-- index (rare keys) and walking the newest customers (common ones), and a
-- row it filters costs an array test, not the functions' ~20 µs.
--
-- Adding the columns rewrites the table and rebuilds its indexes: 111 s at
-- 1M customers (2 shared cores, load average 6–7). Every write of a
-- customer's search text pays for the two functions and GIN entries:
-- loading 100,000 customers took 12.7–13.3 s instead of 10.5–10.7 s
-- (bench/search -n 100000 into fresh databases, runs alternated, load
-- average 5–6).

-- The keys are not made distinct: GIN indexes each key of a row once
-- anyway, and DISTINCT (a sort per row) was half of the functions' cost.
CREATE FUNCTION search_digit_grams(search TEXT) RETURNS SMALLINT[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ARRAY(
        SELECT CAST(substr(m[1], i, 4) AS SMALLINT)
        FROM regexp_matches(search, '[0-9]{4,}', 'g') AS m, generate_series(1, length(m[1]) - 3) AS i);

-- Han is the CJK Unified Ideographs (with extensions A to G) and the
-- compatibility ideographs; isSearchHan in Go is the same ranges.
CREATE FUNCTION search_han_pairs(search TEXT) RETURNS BIGINT[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ARRAY(
        SELECT CAST(ascii(substr(m[1], i, 1)) AS BIGINT) * 2097152 + ascii(substr(m[1], i + 1, 1))
        FROM regexp_matches(search, '[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]{2,}', 'g') AS m,
            generate_series(1, length(m[1]) - 1) AS i);

ALTER TABLE customers
    ADD COLUMN search_digits SMALLINT[] GENERATED ALWAYS AS (search_digit_grams(search)) STORED,
    ADD COLUMN search_han_pairs BIGINT[] GENERATED ALWAYS AS (search_han_pairs(search)) STORED;
CREATE INDEX customers_search_digits ON customers USING gin (search_digits);
CREATE INDEX customers_search_han_pairs ON customers USING gin (search_han_pairs);

-- The planner needs the new columns' statistics to choose their indexes.
ANALYZE customers;
