//! `WindowExec`: evaluates window functions over a partition that is already
//! shuffled by the window's partition keys and sorted by them and the order
//! keys, as Spark's WindowExec does. Each function walks its frame row by
//! row: ranking functions from partition and peer boundaries, offset and
//! value functions by gathering rows, aggregates with an accumulator that
//! grows while the frame's start stays put and starts over when it moves
//! (so sums add in Spark's order and give Spark's floating-point results).

use std::sync::Arc;

use polars::prelude::{
    BooleanChunked, DataFrame, Float64Chunked, IdxCa, IdxSize, Int128Chunked, Int32Chunked,
    Int64Chunked, IntoColumn, IntoLazy, IntoSeries, NewChunkedArray, PlSmallStr, Series,
};

use crate::error::{EngineError, Result};
use crate::exec::{from_polars, ExecutionPlan, TaskContext};
use crate::plan::PlanSchema;
use crate::window::{FrameBound, FrameKind, ValuePick, WindowFrame};

/// How a sum accumulates: Spark's sum result types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SumKind {
    Long,
    Double,
    Decimal { precision: usize, scale: usize },
}

/// One function's evaluation; column names refer to the input partition.
#[derive(Debug, Clone)]
pub enum WindowKernel {
    RowNumber,
    Rank,
    DenseRank,
    PercentRank,
    CumeDist,
    Ntile(i64),
    Offset {
        value: String,
        default: String,
        offset: i64,
        ignore_nulls: bool,
    },
    Value {
        value: String,
        pick: ValuePick,
        ignore_nulls: bool,
    },
    /// `counted` marks the rows that count; `None` counts every row.
    Count {
        counted: Option<String>,
    },
    Sum {
        value: String,
        kind: SumKind,
    },
    /// Averages a double column.
    Avg {
        value: String,
    },
    /// `min`/`max`: `code` orders the values (a dense rank), the result is
    /// gathered from `value`.
    Extreme {
        value: String,
        code: String,
        min: bool,
    },
    /// Any other aggregate over the whole partition: `rows` aggregate a
    /// partition's rows (named columns), `value` reads the result from
    /// them; every row of the partition gets it.
    Grouped {
        rows: Vec<polars::prelude::Expr>,
        value: polars::prelude::Expr,
    },
}

#[derive(Debug, Clone)]
pub struct WindowCall {
    pub kernel: WindowKernel,
    pub frame: WindowFrame,
    pub output: String,
}

/// The single order key of a `RANGE` frame with value offsets, as doubles.
#[derive(Debug, Clone)]
pub struct RangeKey {
    pub column: String,
    pub descending: bool,
}

#[derive(Debug)]
pub struct WindowExec {
    pub input: Arc<dyn ExecutionPlan>,
    /// Boolean column: true where a window partition starts.
    pub partition_starts: String,
    /// Boolean column: true where a group of peers (equal order keys) starts.
    pub peer_starts: String,
    pub range_key: Option<RangeKey>,
    pub calls: Vec<WindowCall>,
    pub schema: PlanSchema,
}

impl ExecutionPlan for WindowExec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn schema(&self) -> &PlanSchema {
        &self.schema
    }

    fn partition_count(&self) -> usize {
        self.input.partition_count()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn execute(&self, partition: usize, ctx: &TaskContext) -> Result<DataFrame> {
        let frame = self.input.execute(partition, ctx)?;
        let range = match &self.range_key {
            Some(key) => Some((doubles(&frame, &key.column)?, key.descending)),
            None => None,
        };
        let layout = Layout::new(
            &bools(&frame, &self.partition_starts)?,
            &bools(&frame, &self.peer_starts)?,
            range,
        );
        let mut columns = frame.columns().to_vec();
        for call in &self.calls {
            let series = evaluate(call, &frame, &layout)?;
            columns.push(series.with_name(call.output.as_str().into()).into_column());
        }
        DataFrame::new_infer_height(columns).map_err(from_polars)
    }
}

/// Partition and peer boundaries of every row, and the range key.
struct Layout {
    part_start: Vec<usize>,
    part_end: Vec<usize>,
    peer_start: Vec<usize>,
    peer_end: Vec<usize>,
    /// Order key values, negated when descending so they ascend; `None` is null.
    range: Option<Vec<Option<f64>>>,
}

fn runs(starts: &[bool]) -> (Vec<usize>, Vec<usize>) {
    let n = starts.len();
    let mut begin = vec![0; n];
    let mut end = vec![n; n];
    let mut current = 0;
    for i in 0..n {
        if i > 0 && starts[i] {
            for e in &mut end[current..i] {
                *e = i;
            }
            current = i;
        }
        begin[i] = current;
    }
    (begin, end)
}

impl Layout {
    fn new(parts: &[bool], peers: &[bool], range: Option<(Vec<Option<f64>>, bool)>) -> Layout {
        let peer_marks: Vec<bool> = peers.iter().zip(parts).map(|(a, b)| *a || *b).collect();
        let (part_start, part_end) = runs(parts);
        let (peer_start, peer_end) = runs(&peer_marks);
        Layout {
            part_start,
            part_end,
            peer_start,
            peer_end,
            range: range.map(|(values, descending)| {
                values
                    .into_iter()
                    .map(|v| v.map(|x| if descending { -x } else { x }))
                    .collect()
            }),
        }
    }

    fn len(&self) -> usize {
        self.part_start.len()
    }

    /// Rows `[lo, hi)` of row `i`'s frame.
    fn bounds(&self, frame: &WindowFrame, i: usize) -> (usize, usize) {
        let (s, e) = (self.part_start[i], self.part_end[i]);
        let clamp = |v: i128| v.clamp(s as i128, e as i128) as usize;
        let (lo, hi) = match frame.kind {
            FrameKind::Rows => {
                let lo = match frame.start {
                    FrameBound::UnboundedPreceding => s,
                    FrameBound::CurrentRow => i,
                    FrameBound::UnboundedFollowing => e,
                    FrameBound::Offset { value, .. } => clamp(i as i128 + i128::from(value)),
                };
                let hi = match frame.end {
                    FrameBound::UnboundedPreceding => s,
                    FrameBound::CurrentRow => i + 1,
                    FrameBound::UnboundedFollowing => e,
                    FrameBound::Offset { value, .. } => clamp(i as i128 + i128::from(value) + 1),
                };
                (lo, hi)
            }
            FrameKind::Range => {
                let lo = match frame.start {
                    FrameBound::UnboundedPreceding => s,
                    FrameBound::CurrentRow => self.peer_start[i],
                    FrameBound::UnboundedFollowing => e,
                    FrameBound::Offset { value, .. } => self.range_edge(i, value, true),
                };
                let hi = match frame.end {
                    FrameBound::UnboundedPreceding => s,
                    FrameBound::CurrentRow => self.peer_end[i],
                    FrameBound::UnboundedFollowing => e,
                    FrameBound::Offset { value, .. } => self.range_edge(i, value, false),
                };
                (lo, hi)
            }
        };
        (lo, hi.max(lo))
    }

    /// The first row whose key is at least (`lower`) or beyond (`!lower`)
    /// the current key plus `offset`; null keys frame their null peers.
    fn range_edge(&self, i: usize, offset: i64, lower: bool) -> usize {
        let Some(values) = &self.range else {
            return if lower {
                self.peer_start[i]
            } else {
                self.peer_end[i]
            };
        };
        let Some(current) = values[i] else {
            return if lower {
                self.peer_start[i]
            } else {
                self.peer_end[i]
            };
        };
        let (s, e) = (self.part_start[i], self.part_end[i]);
        // Nulls sit at one end of the partition; search the non-null run.
        let first = (s..e).find(|j| values[*j].is_some()).unwrap_or(e);
        let last = (first..e).find(|j| values[*j].is_none()).unwrap_or(e);
        let target = current + offset as f64;
        let run = &values[first..last];
        let at = if lower {
            run.partition_point(|v| v.is_some_and(|x| x < target))
        } else {
            run.partition_point(|v| v.is_some_and(|x| x <= target))
        };
        first + at
    }
}

fn bools(frame: &DataFrame, name: &str) -> Result<Vec<bool>> {
    let column = frame.column(name).map_err(from_polars)?;
    let values = column.bool().map_err(from_polars)?;
    Ok(values.iter().map(|v| v.unwrap_or(false)).collect())
}

fn doubles(frame: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    let column = frame.column(name).map_err(from_polars)?;
    Ok(column.f64().map_err(from_polars)?.iter().collect())
}

fn longs(frame: &DataFrame, name: &str) -> Result<Vec<Option<i64>>> {
    let column = frame.column(name).map_err(from_polars)?;
    Ok(column.i64().map_err(from_polars)?.iter().collect())
}

fn decimals(frame: &DataFrame, name: &str) -> Result<Vec<Option<i128>>> {
    let series = frame
        .column(name)
        .map_err(from_polars)?
        .as_materialized_series()
        .to_physical_repr()
        .into_owned();
    Ok(series.i128().map_err(from_polars)?.iter().collect())
}

fn series(frame: &DataFrame, name: &str) -> Result<Series> {
    Ok(frame
        .column(name)
        .map_err(from_polars)?
        .as_materialized_series()
        .clone())
}

fn gather(frame: &DataFrame, name: &str, rows: Vec<Option<IdxSize>>) -> Result<Series> {
    let values = series(frame, name)?;
    let index = IdxCa::from_iter_options(PlSmallStr::from_static("rows"), rows.into_iter());
    values.take(&index).map_err(from_polars)
}

fn idx(row: usize) -> IdxSize {
    row as IdxSize
}

fn evaluate(call: &WindowCall, frame: &DataFrame, layout: &Layout) -> Result<Series> {
    let n = layout.len();
    let name = PlSmallStr::from_static("window");
    let position = |i: usize| i - layout.part_start[i];
    let size = |i: usize| layout.part_end[i] - layout.part_start[i];
    Ok(match &call.kernel {
        WindowKernel::Grouped { rows, value } => {
            const PARTITION: &str = "__kiln_window_partition";
            let mut partition = 0 as IdxSize;
            let partitions: Vec<IdxSize> = (0..n)
                .map(|i| {
                    if i > 0 && layout.part_start[i] == i {
                        partition += 1;
                    }
                    partition
                })
                .collect();
            let mut numbered = frame.clone();
            numbered
                .with_column(IdxCa::from_vec(PARTITION.into(), partitions.clone()).into_column())
                .map_err(from_polars)?;
            let per_partition = numbered
                .lazy()
                .group_by_stable([polars::prelude::col(PARTITION)])
                .agg(rows.clone())
                .select([value.clone().alias("window")])
                .collect()
                .map_err(from_polars)?;
            per_partition
                .column("window")
                .map_err(from_polars)?
                .as_materialized_series()
                .take(&IdxCa::from_vec(name, partitions))
                .map_err(from_polars)?
        }
        WindowKernel::RowNumber => {
            let values: Vec<i32> = (0..n).map(|i| position(i) as i32 + 1).collect();
            Int32Chunked::from_vec(name, values).into_series()
        }
        WindowKernel::Rank => {
            let values: Vec<i32> = (0..n)
                .map(|i| (layout.peer_start[i] - layout.part_start[i]) as i32 + 1)
                .collect();
            Int32Chunked::from_vec(name, values).into_series()
        }
        WindowKernel::DenseRank => {
            let mut values = Vec::with_capacity(n);
            let mut rank = 0i32;
            for i in 0..n {
                if i == layout.part_start[i] {
                    rank = 0;
                }
                if i == layout.peer_start[i] {
                    rank += 1;
                }
                values.push(rank);
            }
            Int32Chunked::from_vec(name, values).into_series()
        }
        WindowKernel::PercentRank => {
            let values: Vec<f64> = (0..n)
                .map(|i| {
                    let rank = (layout.peer_start[i] - layout.part_start[i]) as f64;
                    if size(i) > 1 {
                        rank / (size(i) - 1) as f64
                    } else {
                        0.0
                    }
                })
                .collect();
            Float64Chunked::from_vec(name, values).into_series()
        }
        WindowKernel::CumeDist => {
            let values: Vec<f64> = (0..n)
                .map(|i| (layout.peer_end[i] - layout.part_start[i]) as f64 / size(i) as f64)
                .collect();
            Float64Chunked::from_vec(name, values).into_series()
        }
        WindowKernel::Ntile(buckets) => {
            let values: Vec<i32> = (0..n)
                .map(|i| ntile(position(i) as i64, size(i) as i64, *buckets) as i32)
                .collect();
            Int32Chunked::from_vec(name, values).into_series()
        }
        WindowKernel::Offset {
            value,
            default,
            offset,
            ignore_nulls,
        } => {
            let present = non_null(frame, value)?;
            let mut rows = Vec::with_capacity(n);
            let mut found = Vec::with_capacity(n);
            for i in 0..n {
                let target = offset_row(i, *offset, *ignore_nulls, &present, layout);
                found.push(target.is_some());
                rows.push(target.map(idx));
            }
            let gathered = gather(frame, value, rows)?;
            let fallback = series(frame, default)?;
            let mask = BooleanChunked::from_slice(PlSmallStr::from_static("found"), &found);
            gathered.zip_with(&mask, &fallback).map_err(from_polars)?
        }
        WindowKernel::Value {
            value,
            pick,
            ignore_nulls,
        } => {
            let present = non_null(frame, value)?;
            let rows = (0..n)
                .map(|i| {
                    let (lo, hi) = layout.bounds(&call.frame, i);
                    pick_row(lo, hi, *pick, *ignore_nulls, &present).map(idx)
                })
                .collect();
            gather(frame, value, rows)?
        }
        WindowKernel::Count { counted } => {
            let marks = match counted {
                Some(column) => bools(frame, column)?,
                None => vec![true; n],
            };
            let mut acc = CountAcc { marks, count: 0 };
            let values = fold_frames(call, layout, &mut acc)?;
            Int64Chunked::from_vec(name, values).into_series()
        }
        WindowKernel::Sum { value, kind } => match kind {
            SumKind::Long => {
                let mut acc = LongSum {
                    values: longs(frame, value)?,
                    sum: None,
                };
                let values = fold_frames(call, layout, &mut acc)?;
                Int64Chunked::from_iter_options(name, values.into_iter()).into_series()
            }
            SumKind::Double => {
                let mut acc = DoubleSum {
                    values: doubles(frame, value)?,
                    sum: None,
                    count: 0,
                };
                let values = fold_frames(call, layout, &mut acc)?;
                Float64Chunked::from_iter_options(name, values.into_iter()).into_series()
            }
            SumKind::Decimal { precision, scale } => {
                let mut acc = DecimalSum {
                    values: decimals(frame, value)?,
                    sum: None,
                    limit: 10i128.pow(*precision as u32),
                };
                let values = fold_frames(call, layout, &mut acc)?;
                Int128Chunked::from_iter_options(name, values.into_iter())
                    .into_decimal(*precision, *scale)
                    .map_err(from_polars)?
                    .into_series()
            }
        },
        WindowKernel::Avg { value } => {
            let mut acc = DoubleSum {
                values: doubles(frame, value)?,
                sum: None,
                count: 0,
            };
            let sums = fold_frames(call, layout, &mut MeanOf(&mut acc))?;
            Float64Chunked::from_iter_options(name, sums.into_iter()).into_series()
        }
        WindowKernel::Extreme { value, code, min } => {
            let codes = frame.column(code).map_err(from_polars)?;
            let codes: Vec<Option<IdxSize>> = codes.idx().map_err(from_polars)?.iter().collect();
            let mut acc = Extreme {
                codes,
                best: None,
                min: *min,
            };
            let rows = fold_frames(call, layout, &mut acc)?;
            gather(frame, value, rows)?
        }
    })
}

/// Spark's NTILE: the first `size % buckets` buckets hold one row more.
fn ntile(position: i64, size: i64, buckets: i64) -> i64 {
    let base = size / buckets;
    let bigger = size % buckets;
    let big_rows = bigger * (base + 1);
    if position < big_rows {
        position / (base + 1) + 1
    } else {
        bigger + (position - big_rows) / base.max(1) + 1
    }
}

fn non_null(frame: &DataFrame, name: &str) -> Result<Vec<bool>> {
    let column = frame.column(name).map_err(from_polars)?;
    Ok(column
        .is_not_null()
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect())
}

/// The row `offset` away within the partition (counting only non-null
/// values when `ignore_nulls`), if there is one.
fn offset_row(
    i: usize,
    offset: i64,
    ignore_nulls: bool,
    present: &[bool],
    layout: &Layout,
) -> Option<usize> {
    let (s, e) = (layout.part_start[i] as i64, layout.part_end[i] as i64);
    if !ignore_nulls {
        let j = i as i64 + offset;
        return (s..e).contains(&j).then_some(j as usize);
    }
    let step = offset.signum();
    let mut remaining = offset.abs();
    let mut j = i as i64;
    while remaining > 0 {
        j += step;
        if !(s..e).contains(&j) {
            return None;
        }
        if present[j as usize] {
            remaining -= 1;
        }
    }
    Some(j as usize)
}

fn pick_row(
    lo: usize,
    hi: usize,
    pick: ValuePick,
    ignore_nulls: bool,
    present: &[bool],
) -> Option<usize> {
    let mut rows: Box<dyn Iterator<Item = usize>> = match pick {
        ValuePick::Last => Box::new((lo..hi).rev()),
        _ => Box::new(lo..hi),
    };
    let skip = match pick {
        ValuePick::Nth(n) => (n - 1) as usize,
        _ => 0,
    };
    if ignore_nulls {
        rows.filter(|r| present[*r]).nth(skip)
    } else {
        rows.nth(skip)
    }
}

/// An aggregate's running state over rows `[lo, hi)` of a frame.
trait Accumulator {
    type Out;
    fn reset(&mut self);
    fn add(&mut self, row: usize) -> Result<()>;
    fn value(&self) -> Self::Out;
}

/// Every row's aggregate over its frame: the state grows while the frame's
/// start stays put and is rebuilt when the start moves, as Spark's frames do.
fn fold_frames<A: Accumulator>(
    call: &WindowCall,
    layout: &Layout,
    acc: &mut A,
) -> Result<Vec<A::Out>> {
    let mut out = Vec::with_capacity(layout.len());
    let (mut lo_now, mut hi_now) = (usize::MAX, 0);
    for i in 0..layout.len() {
        let (lo, hi) = layout.bounds(&call.frame, i);
        if lo != lo_now || hi < hi_now {
            acc.reset();
            lo_now = lo;
            hi_now = lo;
        }
        for row in hi_now..hi {
            acc.add(row)?;
        }
        hi_now = hi_now.max(hi);
        out.push(acc.value());
    }
    Ok(out)
}

struct CountAcc {
    marks: Vec<bool>,
    count: i64,
}

impl Accumulator for CountAcc {
    type Out = i64;
    fn reset(&mut self) {
        self.count = 0;
    }
    fn add(&mut self, row: usize) -> Result<()> {
        self.count += i64::from(self.marks[row]);
        Ok(())
    }
    fn value(&self) -> i64 {
        self.count
    }
}

fn overflow(what: &str) -> EngineError {
    EngineError::spark(
        "ARITHMETIC_OVERFLOW",
        format!("{what} overflow. Use 'try_sum' to tolerate overflow and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error."),
    )
}

struct LongSum {
    values: Vec<Option<i64>>,
    sum: Option<i64>,
}

impl Accumulator for LongSum {
    type Out = Option<i64>;
    fn reset(&mut self) {
        self.sum = None;
    }
    fn add(&mut self, row: usize) -> Result<()> {
        if let Some(v) = self.values[row] {
            let sum = self
                .sum
                .unwrap_or(0)
                .checked_add(v)
                .ok_or_else(|| overflow("long"))?;
            self.sum = Some(sum);
        }
        Ok(())
    }
    fn value(&self) -> Option<i64> {
        self.sum
    }
}

struct DoubleSum {
    values: Vec<Option<f64>>,
    sum: Option<f64>,
    count: i64,
}

impl Accumulator for DoubleSum {
    type Out = Option<f64>;
    fn reset(&mut self) {
        self.sum = None;
        self.count = 0;
    }
    fn add(&mut self, row: usize) -> Result<()> {
        if let Some(v) = self.values[row] {
            self.sum = Some(self.sum.unwrap_or(0.0) + v);
            self.count += 1;
        }
        Ok(())
    }
    fn value(&self) -> Option<f64> {
        self.sum
    }
}

/// The mean of a double sum's rows.
struct MeanOf<'a>(&'a mut DoubleSum);

impl Accumulator for MeanOf<'_> {
    type Out = Option<f64>;
    fn reset(&mut self) {
        self.0.reset();
    }
    fn add(&mut self, row: usize) -> Result<()> {
        self.0.add(row)
    }
    fn value(&self) -> Option<f64> {
        self.0.sum.map(|s| s / self.0.count as f64)
    }
}

struct DecimalSum {
    values: Vec<Option<i128>>,
    sum: Option<i128>,
    /// 10^precision: sums must stay below it.
    limit: i128,
}

impl Accumulator for DecimalSum {
    type Out = Option<i128>;
    fn reset(&mut self) {
        self.sum = None;
    }
    fn add(&mut self, row: usize) -> Result<()> {
        if let Some(v) = self.values[row] {
            let sum = self
                .sum
                .unwrap_or(0)
                .checked_add(v)
                .filter(|s| s.abs() < self.limit)
                .ok_or_else(|| overflow("decimal"))?;
            self.sum = Some(sum);
        }
        Ok(())
    }
    fn value(&self) -> Option<i128> {
        self.sum
    }
}

struct Extreme {
    codes: Vec<Option<IdxSize>>,
    best: Option<(IdxSize, usize)>,
    min: bool,
}

impl Accumulator for Extreme {
    type Out = Option<IdxSize>;
    fn reset(&mut self) {
        self.best = None;
    }
    fn add(&mut self, row: usize) -> Result<()> {
        if let Some(code) = self.codes[row] {
            let better = match self.best {
                None => true,
                Some((best, _)) if self.min => code < best,
                Some((best, _)) => code > best,
            };
            if better {
                self.best = Some((code, row));
            }
        }
        Ok(())
    }
    fn value(&self) -> Option<IdxSize> {
        self.best.map(|(_, row)| idx(row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntile_gives_the_first_buckets_one_row_more() {
        let buckets: Vec<i64> = (0..7).map(|p| ntile(p, 7, 3)).collect();
        assert_eq!(buckets, vec![1, 1, 1, 2, 2, 3, 3]);
        let more_buckets_than_rows: Vec<i64> = (0..2).map(|p| ntile(p, 2, 5)).collect();
        assert_eq!(more_buckets_than_rows, vec![1, 2]);
    }

    #[test]
    fn frames_follow_rows_and_peers() {
        // One partition of five rows; peers {0}, {1, 2}, {3, 4}.
        let parts = [true, false, false, false, false];
        let peers = [true, true, false, true, false];
        let layout = Layout::new(&parts, &peers, None);
        let running = WindowFrame::range(FrameBound::UnboundedPreceding, FrameBound::CurrentRow);
        assert_eq!(layout.bounds(&running, 1), (0, 3));
        let sliding = WindowFrame::from_api(FrameKind::Rows, -1, 1);
        assert_eq!(layout.bounds(&sliding, 0), (0, 2));
        assert_eq!(layout.bounds(&sliding, 4), (3, 5));
    }

    #[test]
    fn range_offsets_search_the_order_key() {
        let parts = [true, false, false, false];
        let peers = [true, true, true, true];
        let keys = vec![None, Some(1.0), Some(2.0), Some(4.0)];
        let layout = Layout::new(&parts, &peers, Some((keys, false)));
        let frame = WindowFrame::range(
            FrameBound::Offset {
                value: -1,
                sql_preceding: true,
            },
            FrameBound::CurrentRow,
        );
        assert_eq!(layout.bounds(&frame, 2), (1, 3));
        assert_eq!(layout.bounds(&frame, 3), (3, 4));
        assert_eq!(layout.bounds(&frame, 0), (0, 1));
    }
}
