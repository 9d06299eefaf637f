CREATE OR REPLACE TEMP VIEW trips AS
SELECT * FROM VALUES
  ('green', TIMESTAMP '2020-01-01 00:15:00', 74, 75, 10.5, 1.2),
  ('green', TIMESTAMP '2020-01-01 01:40:00', 74, 41, 22.0, 3.5),
  ('green', TIMESTAMP '2020-02-03 08:05:00', 41, 74, 7.25, 0.8),
  ('yellow', TIMESTAMP '2020-01-01 00:20:00', 132, 74, 52.3, 17.9),
  ('yellow', TIMESTAMP '2020-01-15 13:00:00', 74, 132, 48.0, 16.4),
  ('yellow', TIMESTAMP '2020-02-03 08:45:00', 41, 41, 5.5, 0.3),
  ('yellow', TIMESTAMP '2020-02-03 08:50:00', 41, NULL, NULL, 0.0),
  ('yellow', TIMESTAMP '2019-12-31 23:59:00', 132, 41, 30.0, 9.9)
AS t(service_type, pickup_datetime, PULocationID, DOLocationID, total_amount, trip_distance);
CREATE OR REPLACE TEMP VIEW zones AS
SELECT * FROM VALUES (41, 'Manhattan', 'Central Harlem'), (74, 'Manhattan', 'East Harlem North'), (75, 'Manhattan', 'East Harlem South'), (132, 'Queens', 'JFK Airport')
AS z(LocationID, Borough, Zone);
SELECT * FROM trips;
SELECT service_type, count(1) FROM trips GROUP BY service_type ORDER BY service_type;
SELECT
    -- Revenue grouping
    PULocationID AS revenue_zone,
    date_trunc('month', pickup_datetime) AS revenue_month,
    service_type,
    SUM(total_amount) AS revenue_monthly_total_amount,
    AVG(trip_distance) AS avg_montly_trip_distance,
    count(1) AS trips
FROM
    trips
GROUP BY
    1, 2, 3
ORDER BY 1, 2, 3;
SELECT
    date_trunc('hour', pickup_datetime) AS hour,
    PULocationID AS zone,
    SUM(total_amount) AS amount,
    COUNT(1) AS number_records
FROM trips
WHERE pickup_datetime >= '2020-01-01 00:00:00'
GROUP BY 1, 2
ORDER BY 1, 2;
SELECT CONCAT(coalesce(puz.Zone, 'Unknown'), ' / ', coalesce(doz.Zone, 'Unknown')) AS pu_do_pair, COUNT(1)
FROM trips t
LEFT JOIN zones puz ON t.PULocationID = puz.LocationID
LEFT JOIN zones doz ON t.DOLocationID = doz.LocationID
GROUP BY 1
ORDER BY 2 DESC, 1 ASC
LIMIT 3;
SELECT PULocationID, round(sum(total_amount) / 3600.0, 2) AS r, max(trip_distance) FROM trips GROUP BY PULocationID HAVING count(*) > 2 ORDER BY PULocationID;
SELECT DOLocationID, count(*) FROM trips GROUP BY DOLocationID ORDER BY count(*) DESC, DOLocationID LIMIT 2;
SELECT PULocationID AS zone, count(1) AS c FROM trips GROUP BY zone HAVING c > 2 ORDER BY zone;
SELECT service_type, total_amount FROM trips WHERE total_amount IS NOT NULL ORDER BY trip_distance DESC LIMIT 3;
SELECT DISTINCT service_type FROM trips ORDER BY service_type DESC;
SELECT to_date(pickup_datetime) AS day, count(*) AS n FROM trips GROUP BY day ORDER BY n DESC, day;
SELECT PULocationID FROM trips WHERE service_type = 'green' UNION SELECT DOLocationID FROM trips WHERE service_type = 'green' ORDER BY 1;
SELECT PULocationID FROM trips INTERSECT SELECT DOLocationID FROM trips ORDER BY 1;
SELECT PULocationID FROM trips EXCEPT SELECT LocationID FROM zones WHERE Borough = 'Queens' ORDER BY PULocationID;
WITH busy AS (SELECT PULocationID AS zone, count(*) AS n FROM trips GROUP BY 1)
SELECT z.Zone, b.n FROM busy b JOIN zones z ON b.zone = z.LocationID ORDER BY b.n DESC, z.Zone;
SELECT s.zone, s.total FROM (SELECT PULocationID AS zone, sum(total_amount) AS total FROM trips GROUP BY PULocationID) s WHERE s.total > 20 ORDER BY s.total;
SELECT /*+ BROADCAST(z) */ t.service_type, z.Borough, count(*) AS c FROM trips t JOIN zones z ON t.PULocationID = z.LocationID GROUP BY t.service_type, z.Borough ORDER BY 1, 2;
SELECT z.Zone, t.total_amount FROM zones z LEFT ANTI JOIN trips t ON z.LocationID = t.PULocationID;
SELECT LocationID, Zone FROM zones LEFT SEMI JOIN trips ON LocationID = DOLocationID ORDER BY LocationID;
SELECT CASE WHEN total_amount > 20 THEN 'big' WHEN total_amount > 6 THEN 'mid' ELSE 'small' END AS size, count(1) FROM trips GROUP BY 1 ORDER BY 1;
SELECT total_amount BETWEEN 5 AND 20, Zone LIKE '%Harlem%', PULocationID IN (41, 74), -trip_distance, 7 div 2 + 1, "quoted" FROM trips JOIN zones ON PULocationID = LocationID ORDER BY pickup_datetime LIMIT 4;
SELECT extract(hour FROM pickup_datetime) AS h, hour(pickup_datetime), CAST(total_amount AS INT), total_amount::string FROM trips ORDER BY pickup_datetime LIMIT 3;
SELECT count(DISTINCT PULocationID), COUNT(*), max(pickup_datetime), min(total_amount) FROM trips;
SELECT * FROM range(3);
SELECT id * 2 AS twice FROM range(1, 10, 3) ORDER BY twice DESC;
SELECT 1 AS one, 'x' AS letter, 1.5, 2L, DATE '2021-01-01';
SELECT * FROM trips t WHERE t.DOLocationID IS NULL;
SHOW TABLES;
SHOW COLUMNS IN zones;
DESCRIBE trips;
SET spark.sql.shuffle.partitions=10;
SET spark.sql.shuffle.partitions;
DROP VIEW zones;
SHOW TABLES;
SELECT * FROM zones;
SELECT servce_type FROM trips;
SELECT foo(PULocationID) FROM trips;
SELECT * FORM trips;
SELECT PULocationID, FROM trips WHERE PULocationID > 50;
SELECT * x FROM trips;
CREATE OR REPLACE TEMP VIEW renamed (zone_id, zone_name) AS SELECT LocationID, Zone FROM VALUES (1, 'EWR'), (2, 'Jamaica Bay') AS z(LocationID, Zone);
SELECT * FROM renamed ORDER BY zone_id;
CREATE OR REPLACE TEMP VIEW renamed (only_one) AS SELECT 1 AS a, 2 AS b;
