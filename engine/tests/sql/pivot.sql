CREATE OR REPLACE TEMP VIEW sales AS
SELECT * FROM VALUES
  (2020, 1, 'green', 10.5),
  (2020, 2, 'green', 7.0),
  (2020, 1, 'yellow', 3.25),
  (2021, 1, 'green', 1.0),
  (2021, 3, 'yellow', NULL)
AS t(year, quarter, color, amount);
SELECT * FROM (SELECT year, quarter, amount FROM sales) PIVOT (sum(amount) FOR quarter IN (1, 2, 3)) ORDER BY year;
SELECT * FROM (SELECT year, quarter, amount FROM sales) PIVOT (sum(amount) AS total FOR quarter IN (1 AS q1, 2 AS q2)) ORDER BY year;
SELECT * FROM (SELECT year, color, quarter, amount FROM sales) PIVOT (sum(amount) AS s, count(amount) AS n FOR quarter IN (1 AS q1, 3 AS q3)) ORDER BY year, color;
SELECT * FROM sales PIVOT (max(amount) FOR color IN ('green', 'yellow' AS y)) ORDER BY year, quarter;
SELECT year, green FROM sales PIVOT (avg(amount) FOR color IN ('green')) ORDER BY year, quarter;
SELECT * FROM (SELECT year, quarter, amount FROM sales) PIVOT (sum(amount), count(*) FOR quarter IN (1, 2)) ORDER BY year;
SELECT * FROM (SELECT year, quarter, color FROM sales) PIVOT (upper(color) FOR quarter IN (1, 2));
