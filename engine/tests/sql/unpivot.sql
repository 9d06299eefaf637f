CREATE OR REPLACE TEMP VIEW quarters AS
SELECT * FROM VALUES
  (2020, 10.5, 7, NULL),
  (2021, NULL, 2, 4.25)
AS t(year, q1, q2, q3);
SELECT * FROM quarters UNPIVOT (amount FOR quarter IN (q1, q2, q3)) ORDER BY year, quarter;
SELECT * FROM quarters UNPIVOT INCLUDE NULLS (amount FOR quarter IN (q1 AS first, q3 AS third));
SELECT year, quarter, amount FROM quarters UNPIVOT EXCLUDE NULLS (amount FOR quarter IN (q2, q3)) u WHERE amount > 3;
SELECT * FROM quarters UNPIVOT (amount FOR quarter IN (q1, year));
