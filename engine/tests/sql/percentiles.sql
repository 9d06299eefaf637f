CREATE OR REPLACE TEMP VIEW trips AS
SELECT * FROM VALUES
  ('green', 1, 74, 10.5, DATE'2021-01-03', TIMESTAMP'2021-01-03 10:00:00'),
  ('green', 2, 41, 22.0, DATE'2021-01-01', TIMESTAMP'2021-01-01 08:30:00'),
  ('green', 4, 41, 7.25, DATE'2021-01-05', TIMESTAMP'2021-01-05 23:59:59'),
  ('yellow', 3, 132, 52.3, DATE'2021-02-01', TIMESTAMP'2021-02-01 00:00:01'),
  ('yellow', 5, 74, 48.0, NULL, NULL),
  ('yellow', 6, 41, 5.5, DATE'2021-02-03', TIMESTAMP'2021-02-03 12:00:00'),
  ('yellow', 7, 41, NULL, DATE'2021-02-02', TIMESTAMP'2021-02-02 06:00:00')
AS t(service_type, passengers, zone, total_amount, day, pickup);
SELECT service_type, percentile_approx(passengers, 0.5), approx_percentile(total_amount, array(0.25, 0.75, 0.95)), median(zone), percentile(total_amount, 0.3) FROM trips GROUP BY service_type ORDER BY 1;
SELECT percentile_approx(passengers, 0.5, 100), percentile(passengers, array(0.1, 0.9)), approx_count_distinct(zone), approx_count_distinct(service_type, 0.1) FROM trips;
SELECT percentile_approx(day, 0.5), percentile_approx(pickup, 0.25) FROM trips;
SELECT percentile_approx(passengers, 0.0), percentile_approx(passengers, 1.0), median(total_amount) FROM trips WHERE zone = 41;
SELECT percentile_approx(id, 0.5), median(id) FROM range(0);
SELECT percentile_approx(id, 0.25), percentile_approx(id, 0.999), percentile(id, 0.999) FROM range(1000);
SELECT service_type, percentile_approx(CAST(zone AS STRING), 0.5) FROM trips GROUP BY 1 ORDER BY 1;
SELECT percentile_approx(passengers, 1.5) FROM trips;
SELECT percentile_approx(passengers, array(0.5, 2.0)) FROM trips;
SELECT percentile_approx(passengers, 0.5, 0) FROM trips;
SELECT percentile_approx(passengers, passengers) FROM trips;
SELECT percentile(passengers, -0.5) FROM trips;
SELECT percentile_approx(service_type = 'green', 0.5) FROM trips
;
SELECT array(1, 2.5, NULL), array('a', NULL), array(zone, passengers) FROM trips ORDER BY zone, passengers LIMIT 3;
CREATE OR REPLACE TEMP VIEW v AS SELECT * FROM VALUES ('a', 1), ('a', 2), ('a', 4), ('a', 7), ('b', 5), ('b', NULL), ('c', NULL) AS t(k, x);
SELECT k, percentile_cont(0.5) WITHIN GROUP (ORDER BY x), percentile_disc(0.5) WITHIN GROUP (ORDER BY x) FROM v GROUP BY k ORDER BY k;
SELECT k, percentile_cont(0.25) WITHIN GROUP (ORDER BY x DESC) AS c, percentile_disc(0.25) WITHIN GROUP (ORDER BY x DESC) AS d FROM v GROUP BY k ORDER BY k;
SELECT percentile_disc(0.0) WITHIN GROUP (ORDER BY x) AS a, percentile_disc(0.1) WITHIN GROUP (ORDER BY x) AS b, percentile_disc(0.26) WITHIN GROUP (ORDER BY x) AS c, percentile_disc(0.75) WITHIN GROUP (ORDER BY x) AS d, percentile_disc(1.0) WITHIN GROUP (ORDER BY x) AS e FROM v;
SELECT k, mode() WITHIN GROUP (ORDER BY x), mode() WITHIN GROUP (ORDER BY x DESC) FROM v GROUP BY k ORDER BY k;
SELECT mode(x, true), mode(x, false) FROM VALUES (1), (3), (3), (2) AS t(x);
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY CAST(x AS DOUBLE)), percentile_disc(0.5) WITHIN GROUP (ORDER BY CAST(x AS DOUBLE)) FROM v;
SELECT percentile_cont(array(0.1, 0.5)) WITHIN GROUP (ORDER BY x) FROM v;
SELECT percentile_cont(1.5) WITHIN GROUP (ORDER BY x) FROM v;
SELECT percentile_cont(0.5) FROM v;
SELECT k, median(x), percentile(x, 0.5) FROM v GROUP BY k ORDER BY k;
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY k) FROM v;
SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY k) FROM v;
SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY x) FILTER (WHERE x > 1) FROM v;
CREATE OR REPLACE TEMP VIEW w AS SELECT * FROM VALUES (2), (8), (8), (40) AS t(x);
SELECT percentile_disc(0.45) WITHIN GROUP (ORDER BY x) AS a, percentile_disc(0.3) WITHIN GROUP (ORDER BY x) AS b, percentile_disc(0.55) WITHIN GROUP (ORDER BY x) AS c, percentile_disc(0.6) WITHIN GROUP (ORDER BY x) AS d, percentile_disc(0.79) WITHIN GROUP (ORDER BY x) AS e, percentile_disc(0.81) WITHIN GROUP (ORDER BY x) AS f, percentile_disc(0.45) WITHIN GROUP (ORDER BY x DESC) AS g FROM v;
SELECT percentile_disc(0.2) WITHIN GROUP (ORDER BY x) AS a, percentile_disc(0.26) WITHIN GROUP (ORDER BY x) AS b, percentile_disc(0.6) WITHIN GROUP (ORDER BY x) AS c, percentile_disc(0.76) WITHIN GROUP (ORDER BY x) AS d, percentile_cont(0.6) WITHIN GROUP (ORDER BY x) AS e, percentile_cont(0.6) WITHIN GROUP (ORDER BY x DESC) AS f FROM w;
SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY CAST(x AS DECIMAL(5,1))) AS a, percentile_cont(0.5) WITHIN GROUP (ORDER BY CAST(x AS DECIMAL(5,1))) AS b FROM w;
CREATE OR REPLACE TEMP VIEW r AS SELECT id + 1 AS x FROM range(10);
SELECT percentile_disc(0.3) WITHIN GROUP (ORDER BY x) AS a, percentile_disc(0.7) WITHIN GROUP (ORDER BY x) AS b, percentile_disc(0.6) WITHIN GROUP (ORDER BY x) AS c, percentile_disc(0.3) WITHIN GROUP (ORDER BY x DESC) AS d, percentile_cont(0.3) WITHIN GROUP (ORDER BY x) AS e, percentile_cont(0.7) WITHIN GROUP (ORDER BY x DESC) AS f FROM r;
CREATE OR REPLACE TEMP VIEW r3 AS SELECT id + 1 AS x FROM range(3);
SELECT percentile_disc(0.1 * 3) WITHIN GROUP (ORDER BY x) AS a, percentile_disc(1/3) WITHIN GROUP (ORDER BY x) AS b, percentile_disc(2/3) WITHIN GROUP (ORDER BY x) AS c FROM r3;
SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY x) FROM r3 WHERE x > 5;
SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY x), percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM VALUES (1.5D), (CAST('NaN' AS DOUBLE)), (2.5D) AS t(x);
SELECT listagg(k) WITHIN GROUP (ORDER BY x) FROM v;
SELECT sum(x) WITHIN GROUP (ORDER BY x) FROM v;
SELECT mode(x) WITHIN GROUP (ORDER BY x) FROM v;
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x, k) FROM v;
SELECT percentile_cont(x) WITHIN GROUP (ORDER BY x) FROM v;
SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY x NULLS FIRST) FROM v;
SELECT percentile_disc(DISTINCT 0.5) WITHIN GROUP (ORDER BY x) FROM v;
SELECT mode(x, 'a') FROM v;
SELECT mode() FROM v;
