CREATE OR REPLACE TEMP VIEW trips AS
SELECT * FROM VALUES
  ('green', 1, 74, 10.5),
  ('green', 1, 41, 22.0),
  ('green', 2, 41, 7.25),
  ('yellow', 1, 132, 52.3),
  ('yellow', 2, 74, 48.0),
  ('yellow', 2, 41, 5.5),
  ('yellow', 2, 41, NULL)
AS t(service_type, month, zone, total_amount);
SELECT service_type, month, sum(total_amount) AS revenue, count(1) AS trips FROM trips GROUP BY ROLLUP(service_type, month) ORDER BY service_type NULLS LAST, month NULLS LAST;
SELECT service_type, month, sum(total_amount) AS revenue FROM trips GROUP BY CUBE(service_type, month) ORDER BY 1, 2;
SELECT service_type, zone, count(*) FROM trips GROUP BY GROUPING SETS ((service_type), (zone), ()) ORDER BY 1, 2;
SELECT service_type, month, grouping(month) AS g, grouping_id() AS gid, max(total_amount) FROM trips GROUP BY service_type, month WITH ROLLUP ORDER BY gid, service_type, month;
SELECT service_type, month, sum(total_amount) FROM trips GROUP BY service_type, ROLLUP(month) HAVING sum(total_amount) > 20 ORDER BY 1, 2;
SELECT zone, total_amount FROM trips ORDER BY total_amount DESC NULLS LAST LIMIT 3 OFFSET 2;
SELECT zone FROM trips ORDER BY zone, total_amount OFFSET 5;
SELECT service_type, count(*) FROM trips GROUP BY service_type ORDER BY 1 LIMIT 5 OFFSET 1;
SELECT k, s, count(*) AS n, sum(v) FROM VALUES (1, 'a', 1.0), (1, 'a', 2.0), (2, 'b', 3.0), (1, 'b', NULL) AS t(k, s, v) GROUP BY ALL ORDER BY k, s;
SELECT k % 2 AS odd, max(v) FROM VALUES (1, 1.0), (2, 2.0), (3, 5.0) AS t(k, v) GROUP BY ALL ORDER BY odd;
SELECT count(*), sum(k) FROM VALUES (1), (2) AS t(k) GROUP BY ALL;
SELECT k FROM VALUES (1), (1), (2) AS t(k) GROUP BY ALL ORDER BY k;
SELECT k, s, grouping_id(k, s) AS a, grouping_id() AS d FROM VALUES (1, 'a'), (2, 'b') AS t(k, s) GROUP BY CUBE(k, s) ORDER BY d, k, s;
SELECT k, s, grouping_id(s, k) FROM VALUES (1, 'a'), (2, 'b') AS t(k, s) GROUP BY CUBE(k, s);
SELECT count(*) FROM (SELECT id % 7 AS k FROM range(20) DISTRIBUTE BY k);
SELECT k, v FROM (SELECT id % 3 AS k, id AS v FROM range(9)) CLUSTER BY k;
SELECT k, v FROM (SELECT id % 3 AS k, id AS v FROM range(9)) DISTRIBUTE BY k SORT BY v DESC;
SELECT service_type, count(*) FILTER (WHERE zone = 41) AS z41, sum(total_amount) FILTER (WHERE month = 2) AS feb, avg(total_amount) FILTER (WHERE total_amount > 10) FROM trips GROUP BY service_type ORDER BY 1;
SELECT count(1) FILTER (WHERE zone > 50), count(DISTINCT zone) FILTER (WHERE month = 1), max(total_amount) FILTER (WHERE service_type = 'green') + 1, collect_list(zone) FILTER (WHERE total_amount IS NULL) FROM trips;
SELECT service_type, first(total_amount) FILTER (WHERE zone = 74) AS f, first(total_amount, true) FILTER (WHERE zone = 41 AND month = 2) AS fi, percentile(total_amount, 0.5) FILTER (WHERE zone = 41) AS p FROM trips GROUP BY service_type ORDER BY 1;
SELECT count(*) FILTER (WHERE NULL) FROM trips;
SELECT month, sum(total_amount) FILTER (WHERE zone = 41) s FROM trips GROUP BY month HAVING sum(total_amount) FILTER (WHERE zone = 41) > 6 ORDER BY month;
SELECT count(*) FILTER (WHERE zone) FROM trips;
SELECT count(*) FILTER (WHERE max(zone) > 1) FROM trips;
SELECT upper(service_type) FILTER (WHERE zone = 41) FROM trips;
SELECT sum(zone) FILTER (WHERE month = 1) OVER (PARTITION BY service_type) FROM trips;
SELECT service_type, month, count(*) FROM trips GROUP BY GROUPING SETS ((service_type), (month)), GROUPING SETS ((), (service_type, month)) ORDER BY 1, 2;
SELECT service_type, month, sum(total_amount) FROM trips GROUP BY service_type, month GROUPING SETS ((service_type), (month), ()) ORDER BY 1, 2;
SELECT service_type, month, zone, count(*) FROM trips GROUP BY ROLLUP(service_type), CUBE(month, zone) ORDER BY 1, 2, 3;
