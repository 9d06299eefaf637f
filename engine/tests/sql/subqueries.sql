CREATE OR REPLACE TEMP VIEW trips AS
SELECT * FROM VALUES
  ('green', 1, 74, 75, 10.5),
  ('green', 2, 74, 41, 22.0),
  ('green', 3, 41, 74, 7.25),
  ('yellow', 4, 132, 74, 52.3),
  ('yellow', 5, 74, 132, 48.0),
  ('yellow', 6, 41, 41, 5.5),
  ('yellow', 7, 41, NULL, NULL),
  ('yellow', 8, 132, 41, 30.0)
AS t(service_type, trip_id, PULocationID, DOLocationID, total_amount);
CREATE OR REPLACE TEMP VIEW zones AS
SELECT * FROM VALUES (41, 'Manhattan', 'Central Harlem'), (74, 'Manhattan', 'East Harlem North'), (75, 'Manhattan', 'East Harlem South'), (132, 'Queens', 'JFK Airport'), (264, NULL, 'Unknown')
AS z(LocationID, Borough, Zone);
SELECT 1 AS one, 'x' FROM zones;
SELECT trip_id, total_amount FROM trips WHERE total_amount > (SELECT avg(total_amount) FROM trips) ORDER BY trip_id;
SELECT trip_id, total_amount, round(total_amount / (SELECT max(total_amount) FROM trips), 3) AS share FROM trips ORDER BY trip_id;
SELECT Zone FROM zones WHERE LocationID IN (SELECT PULocationID FROM trips WHERE service_type = 'green') ORDER BY Zone;
SELECT Zone FROM zones WHERE LocationID NOT IN (SELECT PULocationID FROM trips) ORDER BY Zone;
SELECT Zone FROM zones WHERE LocationID NOT IN (SELECT DOLocationID FROM trips) ORDER BY Zone;
SELECT Zone FROM zones z WHERE EXISTS (SELECT 1 FROM trips t WHERE t.DOLocationID = z.LocationID AND t.total_amount > 20) ORDER BY Zone;
SELECT Zone FROM zones z WHERE NOT EXISTS (SELECT * FROM trips WHERE PULocationID = z.LocationID) ORDER BY Zone;
SELECT trip_id FROM trips t1 WHERE EXISTS (SELECT 1 FROM trips t2 WHERE t2.PULocationID = t1.PULocationID AND t2.service_type <> t1.service_type) ORDER BY trip_id;
SELECT trip_id FROM trips t1 WHERE NOT EXISTS (SELECT 1 FROM trips t2 WHERE t2.PULocationID = t1.PULocationID AND t2.trip_id <> t1.trip_id) ORDER BY trip_id;
SELECT trip_id, total_amount FROM trips t WHERE total_amount > (SELECT avg(total_amount) FROM trips WHERE service_type = t.service_type) ORDER BY trip_id;
SELECT trip_id FROM trips t1 WHERE DOLocationID NOT IN (SELECT PULocationID FROM trips t2 WHERE t2.service_type = t1.service_type) ORDER BY trip_id;
SELECT trip_id FROM trips t1 WHERE PULocationID NOT IN (SELECT DOLocationID FROM trips t2 WHERE t2.service_type = t1.service_type AND t2.trip_id <> t1.trip_id) ORDER BY trip_id;
SELECT Zone FROM zones z WHERE LocationID NOT IN (SELECT DOLocationID FROM trips t WHERE t.PULocationID = z.LocationID) ORDER BY Zone;
SELECT trip_id FROM trips t1 WHERE DOLocationID IN (SELECT PULocationID FROM trips t2 WHERE t2.service_type = t1.service_type) ORDER BY trip_id;
SELECT Zone FROM zones z WHERE EXISTS (SELECT PULocationID FROM trips t WHERE t.PULocationID = z.LocationID GROUP BY PULocationID HAVING count(*) > 1) ORDER BY Zone;
SELECT Zone FROM zones z WHERE NOT EXISTS (SELECT 1 FROM trips t WHERE t.DOLocationID = z.LocationID GROUP BY service_type HAVING sum(total_amount) > 20) ORDER BY Zone;
SELECT trip_id FROM trips t1 WHERE total_amount IN (SELECT max(total_amount) FROM trips t2 WHERE t2.service_type = t1.service_type GROUP BY PULocationID) ORDER BY trip_id;
SELECT trip_id FROM trips t1 WHERE total_amount NOT IN (SELECT max(total_amount) FROM trips t2 WHERE t1.service_type = t2.service_type GROUP BY PULocationID) ORDER BY trip_id;
SELECT Zone FROM zones z WHERE EXISTS (SELECT 1 FROM trips t WHERE t.PULocationID = z.LocationID LIMIT 1) ORDER BY Zone;
SELECT Zone FROM zones z WHERE NOT EXISTS (SELECT 1 FROM trips t WHERE t.PULocationID = z.LocationID AND t.total_amount > 10 LIMIT 3) ORDER BY Zone;
SELECT service_type, count(*) FROM trips GROUP BY service_type HAVING sum(total_amount) > (SELECT sum(total_amount) * 0.3 FROM trips) ORDER BY 1;
SELECT trip_id FROM trips WHERE PULocationID IN (SELECT LocationID FROM zones WHERE Borough = 'Manhattan' AND LocationID IN (SELECT DOLocationID FROM trips WHERE total_amount > 40)) ORDER BY trip_id;
SELECT Zone FROM zones WHERE EXISTS (SELECT 1 FROM trips WHERE total_amount > 100) ORDER BY Zone;
SELECT (SELECT Zone FROM zones WHERE LocationID = 41) AS z, (SELECT max(trip_id) FROM trips WHERE total_amount IS NULL) AS missing;
SELECT trip_id FROM trips WHERE total_amount = (SELECT total_amount FROM trips);
SELECT trip_id FROM trips WHERE PULocationID IN (SELECT PULocationID, DOLocationID FROM trips);
SELECT Zone, (SELECT count(*) FROM trips WHERE PULocationID = LocationID AND total_amount > 20) FROM zones ORDER BY Zone;
SELECT Zone FROM zones WHERE (SELECT count(*) FROM trips WHERE DOLocationID = LocationID) = 0 ORDER BY Zone;
SELECT *, (SELECT max(total_amount) FROM trips WHERE PULocationID = LocationID) AS top FROM zones ORDER BY LocationID;
SELECT Zone, (SELECT count(*) FROM trips WHERE PULocationID < LocationID) AS before, (SELECT sum(total_amount) FROM trips WHERE PULocationID >= LocationID AND DOLocationID <> LocationID) AS after FROM zones ORDER BY Zone;
SELECT trip_id FROM trips t1 WHERE total_amount > (SELECT avg(t2.total_amount) FROM trips t2 WHERE t2.service_type = t1.service_type AND t2.trip_id < t1.trip_id) ORDER BY trip_id;
SELECT Zone, (SELECT coalesce(max(total_amount), -1) FROM trips WHERE PULocationID = LocationID AND total_amount > 40) AS m, 1 + (SELECT count(*) FROM trips WHERE DOLocationID = LocationID) AS k FROM zones ORDER BY Zone;
SELECT Zone, (SELECT count(*) FROM trips WHERE PULocationID = LocationID GROUP BY PULocationID) AS n FROM zones ORDER BY Zone;
SELECT trip_id, PULocationID FROM trips t1 WHERE trip_id IN (SELECT trip_id FROM trips t2 WHERE t2.PULocationID = t1.PULocationID ORDER BY total_amount DESC LIMIT 1) ORDER BY trip_id;
SELECT trip_id FROM trips t1 WHERE trip_id NOT IN (SELECT trip_id FROM trips t2 WHERE t2.service_type = t1.service_type ORDER BY trip_id LIMIT 2 OFFSET 1) ORDER BY trip_id;
SELECT Zone FROM zones z WHERE LocationID IN (SELECT DOLocationID FROM trips t WHERE t.PULocationID <= z.LocationID ORDER BY total_amount NULLS LAST LIMIT 1) ORDER BY Zone;
SELECT Zone, (SELECT trip_id FROM trips WHERE PULocationID = LocationID ORDER BY total_amount DESC NULLS LAST LIMIT 1) AS top_trip FROM zones ORDER BY Zone;
SELECT Zone, (SELECT trip_id FROM trips WHERE PULocationID = LocationID ORDER BY trip_id LIMIT 2) AS two FROM zones ORDER BY Zone;
SELECT Zone FROM zones z WHERE EXISTS (SELECT 1 FROM trips t WHERE t.PULocationID = z.LocationID LIMIT 0) ORDER BY Zone;
SELECT trip_id FROM trips t1 WHERE service_type IN (SELECT service_type FROM trips t2 WHERE t2.trip_id = t1.trip_idd);
SELECT Zone, (SELECT Borough FROM zones z2 WHERE z2.LocationID = z.LocationID) AS b FROM zones z ORDER BY Zone;
SELECT trip_id, (SELECT trip_id FROM trips t2 WHERE t2.PULocationID = t1.PULocationID AND t2.trip_id > t1.trip_id) AS later FROM trips t1 ORDER BY trip_id;
SELECT trip_id FROM trips WHERE PULocationID IN (SELECT DOLocationID FROM trips WHERE service_type = 'green') OR total_amount > 40 ORDER BY trip_id;
SELECT trip_id, DOLocationID IN (SELECT PULocationID FROM trips WHERE trip_id < 3) AS seen, DOLocationID NOT IN (SELECT DOLocationID FROM trips) AS unseen FROM trips ORDER BY trip_id;
SELECT trip_id FROM trips WHERE NOT EXISTS (SELECT 1 FROM trips WHERE total_amount > 100) AND (trip_id < 3 OR EXISTS (SELECT 1 FROM trips WHERE trip_id = 99)) ORDER BY trip_id;
SELECT service_type, count(*) FILTER (WHERE PULocationID IN (SELECT 74)) AS from_74 FROM trips GROUP BY service_type ORDER BY 1;
SELECT trip_id, CASE WHEN PULocationID IN (SELECT 41 UNION ALL SELECT NULL) THEN 'yes' ELSE 'no' END AS m FROM trips ORDER BY trip_id;
SELECT Zone FROM zones z WHERE LocationID = 264 OR EXISTS (SELECT 1 FROM trips t WHERE t.DOLocationID = z.LocationID AND t.total_amount > 20) ORDER BY Zone;
SELECT Zone, EXISTS (SELECT 1 FROM trips t WHERE t.PULocationID = z.LocationID) FROM zones z ORDER BY Zone;
SELECT Zone, NOT EXISTS (SELECT 1 FROM trips t WHERE t.PULocationID = z.LocationID) AS idle FROM zones z ORDER BY Zone;
SELECT trip_id, DOLocationID IN (SELECT PULocationID FROM trips t2 WHERE t2.service_type = t1.service_type) FROM trips t1 ORDER BY trip_id;
SELECT trip_id, DOLocationID NOT IN (SELECT PULocationID FROM trips t2 WHERE t2.service_type = t1.service_type) AS n FROM trips t1 ORDER BY trip_id;
SELECT LocationID, LocationID NOT IN (SELECT DOLocationID FROM trips t WHERE t.PULocationID = z.LocationID) AS n, LocationID IN (SELECT DOLocationID FROM trips t WHERE t.PULocationID = z.LocationID) AS i FROM zones z ORDER BY LocationID;
SELECT trip_id FROM trips t1 WHERE trip_id > 6 OR DOLocationID NOT IN (SELECT PULocationID FROM trips t2 WHERE t2.service_type = t1.service_type AND t2.trip_id <> t1.trip_id) ORDER BY trip_id;
SELECT trip_id, CASE WHEN EXISTS (SELECT 1 FROM trips t2 WHERE t2.PULocationID = t1.DOLocationID AND t2.trip_id > t1.trip_id) THEN 'later' ELSE 'none' END AS next FROM trips t1 ORDER BY trip_id;
SELECT count(*) FROM trips t1 WHERE NOT (EXISTS (SELECT 1 FROM zones z WHERE z.LocationID = t1.DOLocationID) AND t1.total_amount > 10);
SELECT Zone FROM zones z WHERE (LocationID, Borough) IN (SELECT PULocationID, 'Manhattan' FROM trips) ORDER BY Zone;
SELECT Zone FROM zones z WHERE (LocationID, LocationID) NOT IN (SELECT PULocationID, DOLocationID FROM trips) ORDER BY Zone;
SELECT trip_id FROM trips t WHERE (PULocationID, service_type) IN (SELECT DOLocationID, t2.service_type FROM trips t2 WHERE t2.trip_id <> t.trip_id) ORDER BY trip_id;
SELECT Zone FROM zones z WHERE (LocationID, Borough) IN (SELECT PULocationID FROM trips) ORDER BY Zone;
SELECT Zone, (LocationID, 'Manhattan') IN (SELECT PULocationID, 'Manhattan' FROM trips) AS x FROM zones z ORDER BY Zone;
SELECT Zone, (LocationID, 'Manhattan') IN (SELECT PULocationID, 'Manhattan' FROM trips) FROM zones z ORDER BY Zone;
SELECT Zone, (LocationID, Borough) NOT IN (SELECT PULocationID, 'Manhattan' FROM trips t WHERE t.DOLocationID = z.LocationID) FROM zones z ORDER BY Zone;
SELECT Zone FROM zones z WHERE (LocationID, Borough) NOT IN (SELECT PULocationID, CASE WHEN trip_id = 7 THEN NULL ELSE 'Manhattan' END FROM trips) ORDER BY Zone;
SELECT Zone FROM zones z WHERE (LocationID, Borough) IN ((41, 'Manhattan'), (132, 'Queens')) ORDER BY Zone;
SELECT Zone FROM zones z WHERE (LocationID, Borough) IN (SELECT PULocationID, DOLocationID FROM trips) ORDER BY Zone;
SELECT (CAST(NULL AS INT), 1) IN ((NULL, 1)) AS a, (1, CAST(NULL AS INT)) IN ((1, 2)) AS b, (1, 2) IN ((1, 2), (3, 4)) AS c, (1, 2) NOT IN ((1, 3)) AS d;
SELECT (1, 2) IN ((1, 2), (3, 4));
SELECT (1, 'a') IN ((1, 2));
SELECT (1, 2) IN ((1, 2, 3));
