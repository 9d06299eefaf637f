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
SELECT array(1, 2.5, NULL), array('a', NULL), array(zone, passengers) FROM trips ORDER BY zone, passengers LIMIT 3
