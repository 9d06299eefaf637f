CREATE OR REPLACE TEMP VIEW baskets AS
SELECT * FROM VALUES
  (1, array('apple', 'pear'), map('a', 1, 'b', 2)),
  (2, array(), map()),
  (3, CAST(NULL AS ARRAY<STRING>), CAST(NULL AS MAP<STRING, INT>)),
  (4, array('fig', NULL, 'fig'), map('c', 3))
AS t(id, fruits, counts);
SELECT id, explode(fruits) FROM baskets ORDER BY id, col;
SELECT id, explode_outer(fruits) AS fruit FROM baskets ORDER BY id, fruit;
SELECT id, posexplode(fruits) FROM baskets ORDER BY id, pos;
SELECT posexplode_outer(fruits), id FROM baskets ORDER BY id, pos;
SELECT id, explode(counts) FROM baskets ORDER BY id, key;
SELECT id, explode(counts) AS (k, v) FROM baskets ORDER BY id, k;
SELECT id, posexplode(counts) FROM baskets ORDER BY id, pos;
SELECT id, fruit FROM baskets LATERAL VIEW explode(fruits) f AS fruit ORDER BY id, fruit;
SELECT id, f.fruit FROM baskets LATERAL VIEW OUTER explode(fruits) f AS fruit ORDER BY id, fruit;
SELECT id, p, fruit FROM baskets LATERAL VIEW posexplode(fruits) f AS p, fruit ORDER BY id, p;
SELECT id, k, v FROM baskets LATERAL VIEW explode(counts) c AS k, v ORDER BY id, k;
SELECT id, fruit, k FROM baskets LATERAL VIEW explode(fruits) f AS fruit LATERAL VIEW explode(counts) c AS k, v ORDER BY id, fruit, k;
SELECT fruit, count(*) AS n FROM baskets LATERAL VIEW explode(fruits) f AS fruit GROUP BY fruit ORDER BY fruit NULLS FIRST;
SELECT explode(array(1, 2, 3)) AS n;
SELECT explode(array(1, 2)) + 1;
SELECT explode(fruits), explode(fruits) FROM baskets;
SELECT explode(id) FROM baskets;
SELECT word, count(*) c FROM (SELECT explode(split('the cat and the hat', ' ')) AS word) GROUP BY word ORDER BY c DESC, word;
SELECT sequence(1, 5) a, sequence(5, 1) b, sequence(1, 10, 3) c, sequence(CAST(2 AS BIGINT), 4) d, sequence(3, 3) e, typeof(sequence(1, 2)) t;
SELECT id, sequence(1, id) s FROM range(4);
SELECT sequence(1, NULL) a;
SELECT id, n FROM range(3) LATERAL VIEW explode(sequence(0, id)) s AS n ORDER BY id, n;
SELECT stack(2, 1, 'a', 2, 'b');
SELECT stack(3, 1, 'a', 2, 'b') AS (n, s);
SELECT stack(2, 'a', NULL);
SELECT id, stack(2, id, id * 2) FROM range(2);
SELECT * FROM VALUES (1, 10, 20) AS t(id, a, b) LATERAL VIEW stack(2, 'a', a, 'b', b) s AS k, v;
SELECT stack(2, 1, 2.5);
SELECT stack(2, 1, 2L);
SELECT stack(0, 1);
SELECT stack(id, 1) FROM range(2);
SELECT stack(1.5, 1);
SELECT stack(2);
SELECT stack(2, 1, 'a', 2, 'b') AS (n);
SELECT inline(array(named_struct('a', 1, 'b', 'x'), named_struct('a', 2, 'b', 'y')));
SELECT inline(array(named_struct('a', 1), NULL));
SELECT inline_outer(CAST(NULL AS ARRAY<STRUCT<a: INT, b: STRING>>));
SELECT id, inline(array(named_struct('k', id, 'v', id * 10))) AS (key, value) FROM range(3) ORDER BY id;
SELECT inline(array(1, 2));
