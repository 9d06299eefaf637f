CREATE OR REPLACE TEMP VIEW trips AS
SELECT * FROM VALUES
  ('green', TIMESTAMP '2020-01-01 00:15:00', 74, 75, 10.5, 1.2, 2.50BD),
  ('green', TIMESTAMP '2020-01-01 01:40:00', 74, 41, 22.0, 3.5, 1.25BD),
  ('green', TIMESTAMP '2020-02-03 08:05:00', 41, 74, 7.25, 0.8, NULL),
  ('green', TIMESTAMP '2020-02-03 09:05:00', 41, 74, 7.25, 0.8, 0.50BD),
  ('yellow', TIMESTAMP '2020-01-01 00:20:00', 132, 74, 52.3, 17.9, 3.00BD),
  ('yellow', TIMESTAMP '2020-01-15 13:00:00', 74, 132, 48.0, 16.4, 0.00BD),
  ('yellow', TIMESTAMP '2020-02-03 08:45:00', 41, 41, 5.5, 0.3, 1.00BD),
  ('yellow', TIMESTAMP '2020-02-03 08:50:00', 41, NULL, NULL, 0.0, 1.00BD),
  ('yellow', TIMESTAMP '2019-12-31 23:59:00', 132, 41, 30.0, 9.9, 2.00BD)
AS t(service_type, pickup_datetime, PULocationID, DOLocationID, total_amount, trip_distance, tip);
SELECT service_type, pickup_datetime, total_amount, row_number() OVER (PARTITION BY service_type ORDER BY pickup_datetime) AS n FROM trips;
SELECT PULocationID, total_amount, rank() OVER (PARTITION BY PULocationID ORDER BY total_amount DESC), dense_rank() OVER (PARTITION BY PULocationID ORDER BY total_amount DESC) FROM trips;
SELECT service_type, total_amount, sum(total_amount) OVER (PARTITION BY service_type ORDER BY pickup_datetime) AS running, sum(total_amount) OVER (PARTITION BY service_type) AS total, count(*) OVER (PARTITION BY service_type) AS trips FROM trips;
SELECT service_type, pickup_datetime, lag(total_amount) OVER w AS previous, lead(total_amount, 2, -1.0) OVER w AS after_next FROM trips WINDOW w AS (PARTITION BY service_type ORDER BY pickup_datetime);
SELECT service_type, trip_distance, avg(trip_distance) OVER (PARTITION BY service_type ORDER BY pickup_datetime ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS smooth FROM trips;
SELECT PULocationID, DOLocationID, min(DOLocationID) OVER (PARTITION BY PULocationID), max(service_type) OVER (PARTITION BY PULocationID ORDER BY pickup_datetime ROWS UNBOUNDED PRECEDING) FROM trips;
SELECT service_type, ntile(3) OVER (PARTITION BY service_type ORDER BY pickup_datetime) AS third, percent_rank() OVER (PARTITION BY service_type ORDER BY trip_distance) AS pr, cume_dist() OVER (PARTITION BY service_type ORDER BY trip_distance) AS cd FROM trips;
SELECT service_type, first_value(total_amount) OVER (PARTITION BY service_type ORDER BY pickup_datetime), last_value(total_amount) OVER (PARTITION BY service_type ORDER BY pickup_datetime ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING), nth_value(total_amount, 2) OVER (PARTITION BY service_type ORDER BY pickup_datetime) FROM trips;
SELECT PULocationID, trip_distance, sum(trip_distance) OVER (ORDER BY PULocationID RANGE BETWEEN 40 PRECEDING AND CURRENT ROW) AS near FROM trips;
SELECT service_type, tip, sum(tip) OVER (PARTITION BY service_type ORDER BY pickup_datetime) AS tips, avg(tip) OVER (PARTITION BY service_type) AS avg_tip FROM trips;
SELECT service_type, sum(total_amount) AS revenue, rank() OVER (ORDER BY sum(total_amount) DESC) AS position, round(sum(total_amount) / sum(sum(total_amount)) OVER (), 4) AS share FROM trips GROUP BY service_type;
SELECT date_trunc('month', pickup_datetime) AS month, PULocationID, sum(total_amount) AS revenue, row_number() OVER (PARTITION BY date_trunc('month', pickup_datetime) ORDER BY sum(total_amount) DESC) AS position FROM trips GROUP BY 1, 2 ORDER BY month, position;
WITH ranked AS (SELECT service_type, PULocationID, total_amount, row_number() OVER (PARTITION BY service_type ORDER BY total_amount DESC NULLS LAST) AS n FROM trips) SELECT * FROM ranked WHERE n <= 2 ORDER BY service_type, n;
SELECT service_type, row_number() OVER (PARTITION BY service_type) FROM trips;
SELECT service_type FROM trips WHERE row_number() OVER (ORDER BY total_amount) = 1;
EXPLAIN SELECT service_type, rank() OVER (PARTITION BY service_type ORDER BY total_amount) FROM trips;
SELECT k, s FROM VALUES (1, 'a'), (1, 'b'), (2, 'c'), (2, NULL), (3, 'd') AS t(k, s) QUALIFY row_number() OVER (PARTITION BY k ORDER BY s DESC) = 1 ORDER BY k;
SELECT k, s, rank() OVER (ORDER BY k DESC) AS r FROM VALUES (1, 'a'), (1, 'b'), (2, 'c'), (3, 'd'), (3, 'e') AS t(k, s) QUALIFY r <= 2 ORDER BY s;
SELECT DISTINCT k FROM VALUES (1, 'a'), (1, 'b'), (2, 'c') AS t(k, s) QUALIFY count(*) OVER (PARTITION BY k) > 1;
SELECT k, sum(v) AS total FROM VALUES (1, 2.0), (1, 3.0), (2, 7.0), (3, 1.0) AS t(k, v) GROUP BY k QUALIFY rank() OVER (ORDER BY total DESC) <= 2 ORDER BY total;
SELECT k, sum(v) FROM VALUES (1, 2.0), (2, 7.0) AS t(k, v) GROUP BY k QUALIFY k > 1;
SELECT k, first_value(g) IGNORE NULLS OVER (ORDER BY k) a, last_value(g) IGNORE NULLS OVER (ORDER BY k) b, first_value(g, true) OVER (ORDER BY k) c, first(g) IGNORE NULLS OVER (ORDER BY k) d FROM VALUES (1, NULL), (2, 'x'), (3, NULL), (4, 'y') AS t(k, g) ORDER BY k;
SELECT k, first_value(g) RESPECT NULLS OVER (ORDER BY k) AS f FROM VALUES (1, NULL), (2, 'x') AS t(k, g) ORDER BY k;
SELECT id, v, lag(v) IGNORE NULLS OVER (ORDER BY id) a, lead(v, 2) IGNORE NULLS OVER (ORDER BY id) b, lag(v, 1, -1) IGNORE NULLS OVER (ORDER BY id) c FROM VALUES (1, 10), (2, NULL), (3, 30), (4, NULL), (5, 50), (6, NULL) AS t(id, v) ORDER BY id;
SELECT id, lag(v) OVER (ORDER BY id), lag(v, 1, NULL, true) OVER (ORDER BY id) FROM VALUES (1, 10), (2, NULL), (3, 30) AS t(id, v) ORDER BY id;
CREATE OR REPLACE TEMP VIEW wv AS SELECT * FROM VALUES ('a', 1, 10.0D), ('a', 2, 12.5D), ('a', 4, 7.0D), ('a', 7, NULL), ('b', 5, 3.0D), ('b', NULL, 4.0D), ('c', NULL, NULL) AS t(k, x, y);
SELECT k, x, stddev(x) OVER (PARTITION BY k) AS s, variance(y) OVER (PARTITION BY k) AS var, corr(x, y) OVER (PARTITION BY k) AS c FROM wv ORDER BY k, x;
SELECT k, x, percentile_cont(0.5) WITHIN GROUP (ORDER BY x) OVER (PARTITION BY k) AS p, median(y) OVER (PARTITION BY k) AS m FROM wv ORDER BY k, x;
SELECT k, x, collect_list(x) OVER (PARTITION BY k) AS l, sort_array(collect_set(k) OVER ()) AS ks FROM wv ORDER BY k, x;
SELECT k, x, count_if(x > 1) OVER (PARTITION BY k) AS n, bool_and(x > 0) OVER (PARTITION BY k) AS b, max_by(y, x) OVER (PARTITION BY k) AS mb FROM wv ORDER BY k, x;
SELECT k, x, stddev(x) OVER (PARTITION BY k ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS s FROM wv ORDER BY k, x;
SELECT k, x, stddev(x) FILTER (WHERE x > 1) OVER (PARTITION BY k) AS s, sum(x) FILTER (WHERE x > 1) OVER (PARTITION BY k) AS t FROM wv ORDER BY k, x;
SELECT k, x, mode(k) OVER (PARTITION BY k) AS mo, listagg(k, '-') OVER (PARTITION BY k) AS la FROM wv ORDER BY k, x;
