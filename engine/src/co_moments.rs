//! `corr`, `covar_samp`, `covar_pop`, the variances and standard
//! deviations, and the `df.corr` / `df.cov` statistics: the co-moments of
//! two columns updated row by row and merged partition by partition with
//! Spark's own formulas, in Spark's order, so the results agree with
//! Spark's to the last digit, not only to rounding.
//!
//! Each partition's rows fold into one buffer per group (a struct column of
//! the count, both means, the co-moment and the two second moments); the
//! buffers of a group merge in partition order; the result divides them.

use polars::prelude::{self as pl, DataType as PlType, IntoColumn, NamedFrom};

/// Which of Spark's three implementations: the SQL aggregates
/// (`PearsonCorrelation`, `Covariance`), `DataFrameStatFunctions`'
/// `CovarianceCounter`, whose merge is written differently, or
/// `CentralMomentAgg` (the variances and standard deviations, of `x`
/// alone), whose update of the second moment is written differently.
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
}

const FIELDS: [&str; 6] = ["n", "x_avg", "y_avg", "ck", "x_mk", "y_mk"];

impl Buffer {
    /// One row, as Spark's implementation of `flavor` adds it.
    fn update(&mut self, x: f64, y: f64, flavor: Flavor) {
        let n = self.n + 1.0;
        if flavor == Flavor::Central {
            let delta = x - self.x_avg;
            let delta_n = delta / n;
            self.x_avg += delta_n;
            self.x_mk += delta * (delta - delta_n);
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
            Flavor::Sql | Flavor::Central => {
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
    let parts: [fn(&Buffer) -> f64; 6] = [
        |b| b.n,
        |b| b.x_avg,
        |b| b.y_avg,
        |b| b.ck,
        |b| b.x_mk,
        |b| b.y_mk,
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
/// `stddev_samp`, `stddev_pop`) of a merged buffer.
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
}
