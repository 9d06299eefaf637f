//! `corr`, `covar_samp`, `covar_pop`, the variances and standard
//! deviations, `skewness`, `kurtosis`, and the `df.corr` / `df.cov`
//! statistics: the co-moments (or central moments) of
//! two columns updated row by row and merged partition by partition with
//! Spark's own formulas, in Spark's order, so the results agree with
//! Spark's to the last digit, not only to rounding.
//!
//! Each partition's rows fold into one buffer per group (a struct column of
//! the count, both means, the co-moment, the two second moments and the
//! third and fourth central moments); the buffers of a group merge in
//! partition order; the result divides them.

use polars::prelude::{self as pl, DataType as PlType, IntoColumn, NamedFrom};

/// Which of Spark's three implementations: the SQL aggregates
/// (`PearsonCorrelation`, `Covariance`), `DataFrameStatFunctions`'
/// `CovarianceCounter`, whose merge is written differently, or
/// `CentralMomentAgg` (the variances, standard deviations, skewness and
/// kurtosis, of `x` alone), whose update of the second moment is written
/// differently and whose merge skips an empty side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Flavor {
    Sql,
    Stat,
    Central,
}

/// Spark's aggregation buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Buffer {
    n: f64,
    x_avg: f64,
    y_avg: f64,
    ck: f64,
    x_mk: f64,
    y_mk: f64,
    /// `CentralMomentAgg`'s third and fourth moments of `x`.
    m3: f64,
    m4: f64,
}

const FIELDS: [&str; 8] = ["n", "x_avg", "y_avg", "ck", "x_mk", "y_mk", "m3", "m4"];

impl Buffer {
    /// One row, as Spark's implementation of `flavor` adds it.
    fn update(&mut self, x: f64, y: f64, flavor: Flavor) {
        let n = self.n + 1.0;
        if flavor == Flavor::Central {
            // Spark 4's expressions, each a left-to-right chain.
            let delta = x - self.x_avg;
            let delta_n = delta / n;
            let m2 = self.x_mk + delta * (delta - delta_n);
            let delta2 = delta * delta;
            let delta_n2 = delta_n * delta_n;
            let m3 = self.m3 - 3.0 * delta_n * m2 + delta * (delta2 - delta_n2);
            self.m4 = self.m4 - 4.0 * delta_n * m3 - 6.0 * delta_n2 * m2
                + delta * (delta * delta2 - delta_n * delta_n2);
            self.m3 = m3;
            self.x_avg += delta_n;
            self.x_mk = m2;
            self.n = n;
            return;
        }
        let dx = x - self.x_avg;
        let dy = y - self.y_avg;
        self.x_avg += dx / n;
        self.y_avg += dy / n;
        self.n = n;
        self.ck += dx * (y - self.y_avg);
        self.x_mk += dx * (x - self.x_avg);
        self.y_mk += dy * (y - self.y_avg);
    }

    fn merge(&mut self, other: &Buffer, flavor: Flavor) {
        let (n1, n2) = (self.n, other.n);
        let n = n1 + n2;
        match flavor {
            Flavor::Central => {
                let (left_empty, right_empty) = (n1 == 0.0, n2 == 0.0);
                let delta = if left_empty || right_empty {
                    0.0
                } else {
                    other.x_avg - self.x_avg
                };
                let delta_n = if n == 0.0 { 0.0 } else { delta / n };
                if left_empty {
                    self.x_avg = other.x_avg;
                } else if !right_empty {
                    self.x_avg += delta_n * n2;
                }
                let (m2l, m2r, m3l, m3r) = (self.x_mk, other.x_mk, self.m3, other.m3);
                self.x_mk = m2l + m2r + delta * delta_n * n1 * n2;
                self.m3 = m3l
                    + m3r
                    + delta_n * delta_n * delta * n1 * n2 * (n1 - n2)
                    + 3.0 * delta_n * (n1 * m2r - n2 * m2l);
                self.m4 = self.m4
                    + other.m4
                    + delta_n * delta_n * delta_n * delta * n1 * n2 * (n1 * n1 - n1 * n2 + n2 * n2)
                    + 6.0 * delta_n * delta_n * (n1 * n1 * m2r + n2 * n2 * m2l)
                    + 4.0 * delta_n * (n1 * m3r - n2 * m3l);
                self.n = n;
            }
            Flavor::Sql => {
                let dx = other.x_avg - self.x_avg;
                let dy = other.y_avg - self.y_avg;
                let (dx_n, dy_n) = if n == 0.0 {
                    (0.0, 0.0)
                } else {
                    (dx / n, dy / n)
                };
                self.x_avg += dx_n * n2;
                self.y_avg += dy_n * n2;
                // Left to right, as Spark's expressions add.
                self.ck = self.ck + other.ck + dx * dy_n * n1 * n2;
                self.x_mk = self.x_mk + other.x_mk + dx * dx_n * n1 * n2;
                self.y_mk = self.y_mk + other.y_mk + dy * dy_n * n1 * n2;
                self.n = n;
            }
            Flavor::Stat => {
                if n2 <= 0.0 {
                    return;
                }
                let dx = self.x_avg - other.x_avg;
                let dy = self.y_avg - other.y_avg;
                self.ck += other.ck + dx * dy * n1 / n * n2;
                self.x_avg = (self.x_avg * n1 + other.x_avg * n2) / n;
                self.y_avg = (self.y_avg * n1 + other.y_avg * n2) / n;
                self.x_mk += other.x_mk + dx * dx * n1 / n * n2;
                self.y_mk += other.y_mk + dy * dy * n1 / n * n2;
                self.n = n;
            }
        }
    }

    /// The statistic, NULL where Spark divides by zero. The variances
    /// are of `x` alone (the `Central` buffer).
    fn result(&self, function: &str) -> Option<f64> {
        let sample = |m2: f64| (self.n > 1.0).then(|| m2 / (self.n - 1.0));
        let population = |m2: f64| (self.n > 0.0).then(|| m2 / self.n);
        match function {
            "var_samp" => return sample(self.x_mk),
            "var_pop" => return population(self.x_mk),
            "stddev_samp" => return sample(self.x_mk).map(f64::sqrt),
            "stddev_pop" => return population(self.x_mk).map(f64::sqrt),
            "skewness" | "kurtosis" => {
                if self.n == 0.0 || self.x_mk == 0.0 {
                    return None;
                }
                let m2 = self.x_mk;
                return Some(if function == "skewness" {
                    self.n.sqrt() * self.m3 / (m2 * m2 * m2).sqrt()
                } else {
                    self.n * self.m4 / (m2 * m2) - 3.0
                });
            }
            _ => {}
        }
        let (numerator, denominator) = match function {
            "corr" => {
                if self.n <= 1.0 {
                    return None;
                }
                (self.ck, (self.x_mk * self.y_mk).sqrt())
            }
            "covar_pop" => (self.ck, self.n),
            _ => {
                if self.n <= 1.0 {
                    return None;
                }
                (self.ck, self.n - 1.0)
            }
        };
        (denominator != 0.0).then(|| numerator / denominator)
    }
}

fn buffer_type() -> PlType {
    PlType::Struct(
        FIELDS
            .iter()
            .map(|f| pl::Field::new((*f).into(), PlType::Float64))
            .collect(),
    )
}

fn buffers_column(name: pl::PlSmallStr, buffers: &[Buffer]) -> pl::PolarsResult<pl::Column> {
    let parts: [fn(&Buffer) -> f64; 8] = [
        |b| b.n,
        |b| b.x_avg,
        |b| b.y_avg,
        |b| b.ck,
        |b| b.x_mk,
        |b| b.y_mk,
        |b| b.m3,
        |b| b.m4,
    ];
    let fields: Vec<pl::Series> = FIELDS
        .iter()
        .zip(parts)
        .map(|(field, part)| {
            pl::Series::new(
                (*field).into(),
                buffers.iter().map(part).collect::<Vec<f64>>(),
            )
        })
        .collect();
    Ok(pl::StructChunked::from_series(name, buffers.len(), fields.iter())?.into_column())
}

fn buffers_of(column: &pl::Series) -> pl::PolarsResult<Vec<Buffer>> {
    let structs = column.struct_()?;
    let fields = structs.fields_as_series();
    let values: Vec<&pl::Float64Chunked> = fields
        .iter()
        .map(|f| f.f64())
        .collect::<pl::PolarsResult<_>>()?;
    Ok((0..column.len())
        .map(|row| {
            let v = |k: usize| values[k].get(row).unwrap_or(0.0);
            Buffer {
                n: v(0),
                x_avg: v(1),
                y_avg: v(2),
                ck: v(3),
                x_mk: v(4),
                y_mk: v(5),
                m3: v(6),
                m4: v(7),
            }
        })
        .collect())
}

/// Each group's rows (`columns[0]`: a list per group of `x`, `y` structs
/// in row order) folded into a buffer, rows with a null skipped.
fn fold_rows(columns: &mut [pl::Column], flavor: Flavor) -> pl::PolarsResult<pl::Column> {
    let lists = columns[0].list()?.clone();
    let mut buffers = Vec::with_capacity(lists.len());
    for list in lists.amortized_iter() {
        let mut buffer = Buffer::default();
        if let Some(list) = list {
            let fields = list.as_ref().struct_()?.fields_as_series();
            let (x, y) = (fields[0].f64()?, fields[1].f64()?);
            for (x, y) in x.iter().zip(y.iter()) {
                if let (Some(x), Some(y)) = (x, y) {
                    buffer.update(x, y, flavor);
                }
            }
        }
        buffers.push(buffer);
    }
    buffers_column(columns[0].name().clone(), &buffers)
}

/// Each group's buffers (`columns[0]`, a list per group in partition
/// order) merged left to right.
fn merge_buffers(columns: &mut [pl::Column], flavor: Flavor) -> pl::PolarsResult<pl::Column> {
    let lists = columns[0].list()?.clone();
    let mut merged = Vec::with_capacity(lists.len());
    for list in lists.amortized_iter() {
        let mut buffer = Buffer::default();
        if let Some(list) = list {
            for other in buffers_of(list.as_ref())? {
                buffer.merge(&other, flavor);
            }
        }
        merged.push(buffer);
    }
    buffers_column(columns[0].name().clone(), &merged)
}

fn results(columns: &mut [pl::Column], function: &str) -> pl::PolarsResult<pl::Column> {
    let values: Vec<Option<f64>> = buffers_of(columns[0].as_materialized_series())?
        .into_iter()
        .map(|b| b.result(function))
        .collect();
    Ok(pl::Series::new(columns[0].name().clone(), values).into_column())
}

/// Each group's rows of `values` as one list of structs (fields `v0`,
/// `v1`, ...), in row order, for a function that folds a group at once.
/// `tag` (the aggregate's state name) rides along so that no two aggregates
/// of a query share a subexpression: polars' common-subexpression
/// elimination shares an imploded input between them wrongly.
pub fn group_rows(values: Vec<pl::Expr>, tag: &str) -> pl::Expr {
    let mut fields: Vec<pl::Expr> = values
        .into_iter()
        .enumerate()
        .map(|(i, v)| v.alias(format!("v{i}")))
        .collect();
    fields.push(pl::lit(tag.to_string()).alias("tag"));
    pl::as_struct(fields).implode(true)
}

/// The buffer of `x` and `y` (doubles) over a group's rows, updated as
/// `flavor` does.
pub fn partial(x: pl::Expr, y: pl::Expr, flavor: Flavor, tag: &str) -> pl::Expr {
    group_rows(vec![x, y], tag).map_many(
        move |columns: &mut [pl::Column]| fold_rows(columns, flavor),
        &[],
        |_, fields| Ok(pl::Field::new(fields[0].name().clone(), buffer_type())),
    )
}

/// A group's partial buffers (the column `state`) merged into one.
pub fn merge(state: pl::Expr, flavor: Flavor) -> pl::Expr {
    state.implode(true).map_many(
        move |columns: &mut [pl::Column]| merge_buffers(columns, flavor),
        &[],
        |_, fields| Ok(pl::Field::new(fields[0].name().clone(), buffer_type())),
    )
}

/// `function` (`corr`, `covar_samp`, `covar_pop`, `var_samp`, `var_pop`,
/// `stddev_samp`, `stddev_pop`, `skewness`, `kurtosis`) of a merged buffer.
pub fn finish(state: pl::Expr, function: &str) -> pl::Expr {
    let function = function.to_string();
    state.map_many(
        move |columns: &mut [pl::Column]| results(columns, &function),
        &[],
        |_, fields| Ok(pl::Field::new(fields[0].name().clone(), PlType::Float64)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PySpark 4: `corr(a, b)` over (1, 2.0), (2, 4.5), (3, 5.0), (4, 9.0)
    /// in one partition, and `df.corr('a', 'b')` with a null read as 0.
    #[test]
    fn folds_as_spark_folds() {
        let rows = [(1.0, 2.0), (2.0, 4.5), (3.0, 5.0), (4.0, 9.0)];
        let mut sql = Buffer::default();
        for (x, y) in rows {
            sql.update(x, y, Flavor::Sql);
        }
        assert_eq!(sql.result("corr"), Some(0.9579237266113428));
        assert_eq!(sql.result("covar_samp"), Some(3.5833333333333335));
        assert_eq!(sql.result("covar_pop"), Some(2.6875));
        let mut constant = Buffer::default();
        constant.update(5.0, 5.0, Flavor::Sql);
        constant.update(5.0, 7.0, Flavor::Sql);
        assert_eq!(constant.result("corr"), None);
        assert_eq!(constant.result("covar_samp"), Some(0.0));
    }

    /// PySpark 4: `stddev(x)` over 1, 2, 4, 7 in one partition, where the
    /// co-moment update would give 2.6457513110645907.
    #[test]
    fn central_moments_update_as_spark_does() {
        let mut central = Buffer::default();
        for x in [1.0, 2.0, 4.0, 7.0] {
            central.update(x, x, Flavor::Central);
        }
        assert_eq!(central.result("stddev_samp"), Some(2.6457513110645903));
        assert_eq!(central.result("var_samp"), Some(6.999999999999997));
    }

    /// PySpark 4 (`local[2]`): `skewness(x)` and `kurtosis(x)` over
    /// `VALUES` 1, 10, 100, 10, 1, which Spark splits into two partitions
    /// (1, 10 and 100, 10, 1) whose buffers it merges; in one partition the
    /// last digits differ (kurtosis 0.19432323191698986).
    #[test]
    fn higher_moments_update_and_merge_as_spark_does() {
        let fold = |xs: &[f64]| {
            let mut buffer = Buffer::default();
            for &x in xs {
                buffer.update(x, x, Flavor::Central);
            }
            buffer
        };
        let mut merged = Buffer::default();
        for part in [fold(&[1.0, 10.0]), fold(&[100.0, 10.0, 1.0])] {
            merged.merge(&part, Flavor::Central);
        }
        assert_eq!(merged.result("skewness"), Some(1.4581249961461291));
        assert_eq!(merged.result("kurtosis"), Some(0.19432323191699075));
        let whole = fold(&[1.0, 10.0, 100.0, 10.0, 1.0]);
        assert_eq!(whole.result("kurtosis"), Some(0.19432323191698986));
        assert_eq!(fold(&[3.0, 3.0]).result("skewness"), None);
        assert_eq!(Buffer::default().result("kurtosis"), None);
    }
}
