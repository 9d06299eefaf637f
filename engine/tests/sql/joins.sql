CREATE OR REPLACE TEMP VIEW a AS
SELECT * FROM VALUES (1, 10), (2, 20), (3, NULL), (NULL, 5), (2, 1) AS t(k, x);
CREATE OR REPLACE TEMP VIEW b AS
SELECT * FROM VALUES (1, 15), (1, 5), (2, 25), (4, 1), (NULL, 3), (2, 0) AS t(k, y);
SELECT * FROM a LEFT JOIN b ON a.k = b.k AND a.x < b.y ORDER BY a.k, a.x, b.y;
SELECT * FROM a RIGHT JOIN b ON a.k = b.k AND a.x < b.y ORDER BY b.k, b.y, a.x;
SELECT * FROM a FULL JOIN b ON a.k = b.k AND a.x < b.y ORDER BY a.k, a.x, b.k, b.y;
SELECT * FROM a JOIN b ON a.k = b.k AND a.x + b.y > 20 ORDER BY a.k, a.x, b.y;
SELECT * FROM a LEFT JOIN b ON a.x < b.y ORDER BY a.k, a.x, b.k, b.y;
SELECT * FROM a RIGHT JOIN b ON a.x > b.y + 10 ORDER BY b.k, b.y, a.k, a.x;
SELECT * FROM a FULL OUTER JOIN b ON a.x = b.y + 5 OR a.k > b.k ORDER BY a.k, a.x, b.k, b.y;
SELECT * FROM a JOIN b ON a.x < b.y ORDER BY a.k, a.x, b.k, b.y;
SELECT * FROM a LEFT SEMI JOIN b ON a.x < b.y ORDER BY k, x;
SELECT * FROM a LEFT ANTI JOIN b ON a.x < b.y ORDER BY k, x;
SELECT * FROM a LEFT JOIN b USING (k) ORDER BY k, x, y;
SELECT k, x, y FROM a FULL JOIN b USING (k) ORDER BY k, x, y;
SELECT count(*) c FROM a LEFT JOIN b ON a.k = b.k AND b.y > 100;
SELECT * FROM a LEFT JOIN b ON a.k = b.k AND a.x IS NULL ORDER BY a.k, a.x, b.y;
CREATE OR REPLACE TEMP VIEW c AS
SELECT * FROM VALUES (1, 'a'), (1, 'a'), (1, 'a'), (2, NULL), (2, NULL), (3, 'c'), (NULL, NULL) AS t(k, v);
CREATE OR REPLACE TEMP VIEW d AS
SELECT * FROM VALUES (1, 'a'), (2, NULL), (2, NULL), (2, NULL), (4, 'd'), (NULL, NULL), (NULL, NULL) AS t(n, w);
SELECT * FROM c INTERSECT ALL SELECT * FROM d ORDER BY k, v;
SELECT * FROM c EXCEPT ALL SELECT * FROM d ORDER BY k, v;
SELECT * FROM d EXCEPT ALL SELECT * FROM c ORDER BY n, w;
SELECT * FROM c INTERSECT SELECT * FROM d ORDER BY k, v;
SELECT * FROM c EXCEPT SELECT * FROM d ORDER BY k, v;
SELECT k FROM c INTERSECT ALL SELECT n FROM d ORDER BY k;
SELECT * FROM c EXCEPT ALL SELECT * FROM c;
SELECT k, v FROM c INTERSECT ALL SELECT n FROM d;
SELECT * FROM VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30) AS l(k, s, v) NATURAL JOIN VALUES (1, 'a', true), (2, 'x', false), (3, 'c', NULL) AS r(k, s, f) ORDER BY k;
SELECT * FROM VALUES (1, 'a'), (2, 'b') AS l(k, s) NATURAL LEFT JOIN VALUES (1, 'z') AS r(k, t) ORDER BY k;
SELECT count(*) FROM VALUES (1), (2) AS l(a) NATURAL JOIN VALUES (3), (4), (5) AS r(b);
