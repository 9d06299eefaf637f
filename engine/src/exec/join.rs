//! Joins, executed per partition by polars: a broadcast join (one side
//! collected once and joined with every partition of the other, by hash on
//! equi-keys or as a nested loop without them) or a shuffled hash join (both
//! sides hash-partitioned by the keys, their buckets coalesced together so
//! partition i of each side meets), which adaptive execution turns into a
//! broadcast join when a shuffled side proves small. Conditions beyond the
//! keys filter the matched pairs.

use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

use polars::prelude::{
    self as pl, ChunkFillNullValue, DataFrame, IntoLazy, IntoSeries, JoinArgs, JoinCoalesce,
    JoinType,
};

use crate::error::{EngineError, Result};
use crate::exec::combine::concat_frames;
use crate::exec::exchange::{coalesce_ranges, Coalescing, ShuffleExchangeExec};
use crate::exec::{collect_broadcast, from_polars, ExecutionPlan, TaskContext};
use crate::plan::PlanSchema;
use rayon::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
    LeftSemi,
    LeftAnti,
    /// Every left row, with a boolean column saying whether some right row
    /// matches it (Spark's existence join, for `EXISTS` and `IN` subqueries
    /// under `OR` or in a SELECT list).
    LeftMark,
    Cross,
}

impl JoinKind {
    /// Spark's spellings of `how`.
    pub fn parse(how: &str) -> Result<JoinKind> {
        Ok(match how.to_ascii_lowercase().replace('_', "").as_str() {
            "inner" => JoinKind::Inner,
            "left" | "leftouter" => JoinKind::Left,
            "right" | "rightouter" => JoinKind::Right,
            "full" | "outer" | "fullouter" => JoinKind::Full,
            "semi" | "leftsemi" => JoinKind::LeftSemi,
            "anti" | "leftanti" => JoinKind::LeftAnti,
            "cross" => JoinKind::Cross,
            _ => {
                return Err(EngineError::analysis(
                    "UNSUPPORTED_JOIN_TYPE",
                    format!("Unsupported join type '{how}'. Supported join types include: 'inner', 'outer', 'full', 'fullouter', 'full_outer', 'leftouter', 'left', 'left_outer', 'rightouter', 'right', 'right_outer', 'leftsemi', 'left_semi', 'semi', 'leftanti', 'left_anti', 'anti', 'cross'."),
                ))
            }
        })
    }

    /// The polars join computing this one; an existence join has none.
    fn polars(self) -> Option<JoinType> {
        Some(match self {
            JoinKind::Inner => JoinType::Inner,
            JoinKind::Left => JoinType::Left,
            JoinKind::Right => JoinType::Right,
            JoinKind::Full => JoinType::Full,
            JoinKind::LeftSemi => JoinType::Semi,
            JoinKind::LeftAnti => JoinType::Anti,
            JoinKind::Cross => JoinType::Cross,
            JoinKind::LeftMark => return None,
        })
    }

    /// True for the joins that keep left rows only, each at most once.
    pub fn keeps_left_only(self) -> bool {
        matches!(
            self,
            JoinKind::LeftSemi | JoinKind::LeftAnti | JoinKind::LeftMark
        )
    }

    /// Spark's name in plans (`LeftOuter`, `FullOuter`, ...).
    pub fn spark_name(self) -> &'static str {
        match self {
            JoinKind::Inner => "Inner",
            JoinKind::Left => "LeftOuter",
            JoinKind::Right => "RightOuter",
            JoinKind::Full => "FullOuter",
            JoinKind::LeftSemi => "LeftSemi",
            JoinKind::LeftAnti => "LeftAnti",
            JoinKind::LeftMark => "ExistenceJoin(exists)",
            JoinKind::Cross => "Cross",
        }
    }
}

/// The column an existence join's matching step adds to its left rows.
pub const EXISTENCE_MARK: &str = "__kiln_exists";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildSide {
    Left,
    Right,
}

#[derive(Debug)]
pub enum JoinStrategy {
    /// The build side is collected once and joined with each stream partition.
    Broadcast {
        build: BuildSide,
        built: OnceLock<DataFrame>,
        lock: Mutex<()>,
    },
    /// Both inputs are hash exchanges with the same partition count.
    Shuffled {
        left: Arc<ShuffleExchangeExec>,
        right: Arc<ShuffleExchangeExec>,
        coalescing: Option<Coalescing>,
        adaptive: Option<AdaptiveBroadcast>,
        layout: OnceLock<ShuffledLayout>,
    },
}

/// Adaptive execution's second look at a shuffled join: the side that may
/// be broadcast is shuffled first, and when its real size is under the
/// threshold it is broadcast, so the other side is joined where it stands
/// instead of being shuffled too (Spark's AQE turns such a join into a
/// broadcast hash join once the shuffle sizes are known).
#[derive(Debug, Clone, Copy)]
pub struct AdaptiveBroadcast {
    pub side: BuildSide,
    pub threshold: u64,
}

/// How a shuffled join reads its inputs, decided once their map stages ran.
#[derive(Debug)]
pub enum ShuffledLayout {
    /// Partition i joins the i-th coalesced range of buckets of both sides.
    Buckets(Vec<Range<usize>>),
    /// One side, found small, collected whole and joined with each
    /// partition of the other side's unshuffled input.
    Broadcast {
        build: BuildSide,
        built: DataFrame,
        stream: Arc<dyn ExecutionPlan>,
    },
    /// The left side of a semi or anti join, found small, collected whole:
    /// each partition of the right side's unshuffled input marks the left
    /// rows it matches, and one partition keeps (or drops) the marked rows.
    SmallLeft {
        left: DataFrame,
        right: Arc<dyn ExecutionPlan>,
    },
}

#[derive(Debug)]
pub struct HashJoinExec {
    pub left: Arc<dyn ExecutionPlan>,
    pub right: Arc<dyn ExecutionPlan>,
    pub kind: JoinKind,
    /// Key columns each side's input carries (already evaluated and coerced).
    pub left_keys: Vec<String>,
    pub right_keys: Vec<String>,
    /// Applied to the pairs the keys match; an outer join keeps a preserved
    /// row that it rejects for every partner.
    pub residual: Option<pl::Expr>,
    /// Builds the output columns from the joined frame.
    pub output: Vec<pl::Expr>,
    pub strategy: JoinStrategy,
    pub schema: PlanSchema,
}

impl HashJoinExec {
    fn join(&self, left: DataFrame, right: DataFrame) -> Result<DataFrame> {
        match (&self.residual, self.kind) {
            (Some(residual), JoinKind::LeftSemi | JoinKind::LeftAnti | JoinKind::LeftMark) => {
                return self.filtered_semi_join(left, right, residual);
            }
            (Some(residual), JoinKind::Left | JoinKind::Right | JoinKind::Full) => {
                return self.filtered_outer_join(left, right, residual);
            }
            _ => {}
        }
        if let ([left_key], [right_key], true) = (
            self.left_keys.as_slice(),
            self.right_keys.as_slice(),
            self.kind.keeps_left_only(),
        ) {
            return self.membership_join(left, right, left_key, right_key);
        }
        let Some(how) = self.kind.polars() else {
            return self.filtered_semi_join(left, right, &pl::lit(true));
        };
        let args = JoinArgs::new(how).with_coalesce(JoinCoalesce::KeepColumns);
        let left_on: Vec<pl::Expr> = self.left_keys.iter().map(|k| pl::col(k.as_str())).collect();
        let right_on: Vec<pl::Expr> = self
            .right_keys
            .iter()
            .map(|k| pl::col(k.as_str()))
            .collect();
        let mut joined = if self.kind == JoinKind::Cross {
            left.lazy().cross_join(right.lazy(), None)
        } else {
            left.lazy().join(right.lazy(), left_on, right_on, args)
        };
        if let Some(residual) = &self.residual {
            joined = joined.filter(residual.clone().fill_null(pl::lit(false)));
        }
        joined
            .select(self.output.clone())
            .collect()
            .map_err(from_polars)
    }

    /// A semi, anti or existence join on one key as a membership test: the
    /// right side's keys go into one hash set, each left key is looked up
    /// once (polars' semi join is slow when the right side repeats keys many
    /// times, and deduplicating them first groups every key). A null key
    /// matches nothing, so an anti join keeps it and its mark is false.
    fn membership_join(
        &self,
        left: DataFrame,
        right: DataFrame,
        left_key: &str,
        right_key: &str,
    ) -> Result<DataFrame> {
        let probe = left.column(left_key).map_err(from_polars)?;
        let keys = right
            .column(right_key)
            .map_err(from_polars)?
            .as_materialized_series()
            .implode()
            .map_err(from_polars)?
            .into_series();
        let found = pl::is_in(probe.as_materialized_series(), &keys, false)
            .and_then(|found| found.fill_null_with_values(false))
            .map_err(from_polars)?;
        let kept = match self.kind {
            JoinKind::LeftSemi => left.filter(&found),
            JoinKind::LeftAnti => left.filter(&!&found),
            _ => left.hstack(&[found.with_name(EXISTENCE_MARK.into()).into_series().into()]),
        };
        kept.map_err(from_polars)?
            .lazy()
            .select(self.output.clone())
            .collect()
            .map_err(from_polars)
    }

    /// The pairs of rows that meet the keys (every pair without keys) and
    /// the residual condition.
    fn matching_pairs(
        &self,
        left: pl::LazyFrame,
        right: pl::LazyFrame,
        residual: &pl::Expr,
    ) -> pl::LazyFrame {
        let pairs = if self.left_keys.is_empty() {
            left.cross_join(right, None)
        } else {
            let on = |keys: &[String]| keys.iter().map(|k| pl::col(k.as_str())).collect::<Vec<_>>();
            left.join(
                right,
                on(&self.left_keys),
                on(&self.right_keys),
                JoinArgs::new(JoinType::Inner).with_coalesce(JoinCoalesce::KeepColumns),
            )
        };
        pairs.filter(residual.clone().fill_null(pl::lit(false)))
    }

    /// A semi, anti or existence join whose condition has more than
    /// equalities (`EXISTS` with `a.x <> b.x`): the left rows with at least
    /// one (semi) or no (anti) right row matching the keys and the residual
    /// condition, or all of them marked with whether they have one.
    fn filtered_semi_join(
        &self,
        left: DataFrame,
        right: DataFrame,
        residual: &pl::Expr,
    ) -> Result<DataFrame> {
        const ROW: &str = "__kiln_left_row";
        let left = left.with_row_index(ROW.into(), None).map_err(from_polars)?;
        let matched = self
            .matching_pairs(left.clone().lazy(), right.lazy(), residual)
            .select([pl::col(ROW)])
            .collect()
            .map_err(from_polars)?;
        self.membership_join(left, matched, ROW, ROW)
    }

    /// An outer join whose condition has more than equalities: the pairs
    /// that meet the keys and the condition, then each preserved side's rows
    /// that met none, the other side's columns null. Correct per partition
    /// because a row's possible partners are all in its partition (same
    /// keys, or the whole other side when it is broadcast).
    fn filtered_outer_join(
        &self,
        left: DataFrame,
        right: DataFrame,
        residual: &pl::Expr,
    ) -> Result<DataFrame> {
        const LEFT_ROW: &str = "__kiln_left_row";
        const RIGHT_ROW: &str = "__kiln_right_row";
        let left = left
            .with_row_index(LEFT_ROW.into(), None)
            .map_err(from_polars)?;
        let right = right
            .with_row_index(RIGHT_ROW.into(), None)
            .map_err(from_polars)?;
        let matched = self
            .matching_pairs(left.clone().lazy(), right.clone().lazy(), residual)
            .collect()
            .map_err(from_polars)?;
        let columns: Vec<pl::Expr> = matched
            .get_column_names()
            .into_iter()
            .map(|name| pl::col(name.as_str()))
            .collect();
        // A preserved side's unmatched rows, with the other side's columns null.
        let unmatched = |side: &DataFrame, row: &str, other: &DataFrame| {
            let met = matched.clone().lazy().select([pl::col(row)]);
            let nulls: Vec<pl::Expr> = other
                .schema()
                .iter()
                .map(|(name, dtype)| pl::lit(pl::NULL).cast(dtype.clone()).alias(name.clone()))
                .collect();
            side.clone()
                .lazy()
                .join(
                    met,
                    [pl::col(row)],
                    [pl::col(row)],
                    JoinArgs::new(JoinType::Anti),
                )
                .with_columns(nulls)
                .select(columns.clone())
        };
        let mut parts = vec![matched.clone().lazy()];
        if matches!(self.kind, JoinKind::Left | JoinKind::Full) {
            parts.push(unmatched(&left, LEFT_ROW, &right));
        }
        if matches!(self.kind, JoinKind::Right | JoinKind::Full) {
            parts.push(unmatched(&right, RIGHT_ROW, &left));
        }
        pl::concat(parts, pl::UnionArgs::default())
            .map_err(from_polars)?
            .select(self.output.clone())
            .collect()
            .map_err(from_polars)
    }

    fn built(&self, ctx: &TaskContext) -> Result<&DataFrame> {
        let JoinStrategy::Broadcast { build, built, lock } = &self.strategy else {
            return Err(EngineError::Internal("not a broadcast join".into()));
        };
        if built.get().is_none() {
            let _guard = lock
                .lock()
                .map_err(|_| EngineError::Internal("broadcast lock poisoned".into()))?;
            if built.get().is_none() {
                let side = match build {
                    BuildSide::Left => &self.left,
                    BuildSide::Right => &self.right,
                };
                let frames = collect_broadcast(side, ctx)?;
                let _ = built.set(concat_frames(frames, side.schema())?);
            }
        }
        built
            .get()
            .ok_or_else(|| EngineError::Internal("broadcast side missing".into()))
    }

    /// A semi, anti or existence join of a small left side: the right
    /// side's partitions (in parallel) each name the left rows they match,
    /// by the keys and the residual condition, and the left rows named by
    /// any of them are kept (semi), dropped (anti) or marked (existence).
    fn semi_join_small_left(
        &self,
        left: &DataFrame,
        right: &Arc<dyn ExecutionPlan>,
        ctx: &TaskContext,
    ) -> Result<DataFrame> {
        const ROW: &str = "__kiln_left_row";
        let indexed = left
            .clone()
            .with_row_index(ROW.into(), None)
            .map_err(from_polars)?;
        let always = pl::lit(true);
        let residual = self.residual.as_ref().unwrap_or(&always);
        let matched = (0..right.partition_count())
            .into_par_iter()
            .map(|p| {
                let rows = right.execute(p, ctx)?;
                self.matching_pairs(indexed.clone().lazy(), rows.lazy(), residual)
                    .select([pl::col(ROW)])
                    .unique(None, pl::UniqueKeepStrategy::Any)
                    .collect()
                    .map_err(from_polars)
            })
            .collect::<Result<Vec<_>>>()?;
        let mut rows = indexed.clear().select([ROW]).map_err(from_polars)?;
        for part in &matched {
            rows.vstack_mut(part).map_err(from_polars)?;
        }
        self.membership_join(indexed, rows, ROW, ROW)
    }

    fn layout(&self, ctx: &TaskContext) -> Result<&ShuffledLayout> {
        let JoinStrategy::Shuffled {
            left,
            right,
            coalescing,
            adaptive,
            layout,
        } = &self.strategy
        else {
            return Err(EngineError::Internal("not a shuffled join".into()));
        };
        if layout.get().is_none() {
            let decided = self.decide_layout(left, right, *coalescing, *adaptive, ctx)?;
            let _ = layout.set(decided);
        }
        layout
            .get()
            .ok_or_else(|| EngineError::Internal("join layout missing".into()))
    }

    fn decide_layout(
        &self,
        left: &Arc<ShuffleExchangeExec>,
        right: &Arc<ShuffleExchangeExec>,
        coalescing: Option<Coalescing>,
        adaptive: Option<AdaptiveBroadcast>,
        ctx: &TaskContext,
    ) -> Result<ShuffledLayout> {
        if let Some(AdaptiveBroadcast { side, threshold }) = adaptive {
            let (small, other) = match side {
                BuildSide::Left => (left, right),
                BuildSide::Right => (right, left),
            };
            small.prepare(ctx)?;
            let bytes: i64 = small.bucket_sizes()?.iter().sum();
            if u64::try_from(bytes).is_ok_and(|b| b <= threshold) {
                let built = small.read_buckets(0..small.partitioning.count(), ctx)?;
                other.input.prepare(ctx)?;
                if side == BuildSide::Left && self.kind.keeps_left_only() {
                    return Ok(ShuffledLayout::SmallLeft {
                        left: built,
                        right: other.input.clone(),
                    });
                }
                return Ok(ShuffledLayout::Broadcast {
                    build: side,
                    built,
                    stream: other.input.clone(),
                });
            }
        }
        left.prepare(ctx)?;
        right.prepare(ctx)?;
        let sizes: Vec<i64> = left
            .bucket_sizes()?
            .iter()
            .zip(right.bucket_sizes()?)
            .map(|(l, r)| l + r)
            .collect();
        Ok(ShuffledLayout::Buckets(match coalescing {
            Some(c) => coalesce_ranges(&sizes, c),
            None => (0..sizes.len()).map(|i| i..i + 1).collect(),
        }))
    }
}

impl ExecutionPlan for HashJoinExec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn schema(&self) -> &PlanSchema {
        &self.schema
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.left, &self.right]
    }

    fn prepare(&self, ctx: &TaskContext) -> Result<()> {
        match &self.strategy {
            JoinStrategy::Broadcast { build, .. } => {
                match build {
                    BuildSide::Left => self.right.prepare(ctx)?,
                    BuildSide::Right => self.left.prepare(ctx)?,
                }
                self.built(ctx).map(|_| ())
            }
            JoinStrategy::Shuffled { .. } => self.layout(ctx).map(|_| ()),
        }
    }

    fn retained_bytes(&self) -> u64 {
        let built = match &self.strategy {
            JoinStrategy::Broadcast { built, .. } => {
                built.get().map_or(0, |b| b.estimated_size() as u64)
            }
            JoinStrategy::Shuffled { layout, .. } => match layout.get() {
                Some(ShuffledLayout::Broadcast { built, .. }) => built.estimated_size() as u64,
                Some(ShuffledLayout::SmallLeft { left, .. }) => left.estimated_size() as u64,
                _ => 0,
            },
        };
        built + self.left.retained_bytes() + self.right.retained_bytes()
    }

    fn partition_count(&self) -> usize {
        match &self.strategy {
            JoinStrategy::Broadcast { build, .. } => match build {
                BuildSide::Left => self.right.partition_count(),
                BuildSide::Right => self.left.partition_count(),
            },
            JoinStrategy::Shuffled { left, layout, .. } => match layout.get() {
                Some(ShuffledLayout::Buckets(groups)) => groups.len(),
                Some(ShuffledLayout::Broadcast { stream, .. }) => stream.partition_count(),
                Some(ShuffledLayout::SmallLeft { .. }) => 1,
                None => left.partition_count(),
            },
        }
    }

    fn execute(&self, partition: usize, ctx: &TaskContext) -> Result<DataFrame> {
        match &self.strategy {
            JoinStrategy::Broadcast { build, .. } => {
                let built = self.built(ctx)?.clone();
                match build {
                    BuildSide::Right => self.join(self.left.execute(partition, ctx)?, built),
                    BuildSide::Left => self.join(built, self.right.execute(partition, ctx)?),
                }
            }
            JoinStrategy::Shuffled { left, right, .. } => match self.layout(ctx)? {
                ShuffledLayout::Buckets(groups) => {
                    let range = groups.get(partition).cloned().unwrap_or(0..0);
                    let l = left.read_buckets(range.clone(), ctx)?;
                    let r = right.read_buckets(range, ctx)?;
                    self.join(l, r)
                }
                ShuffledLayout::Broadcast {
                    build,
                    built,
                    stream,
                } => {
                    let streamed = stream.execute(partition, ctx)?;
                    match build {
                        BuildSide::Right => self.join(streamed, built.clone()),
                        BuildSide::Left => self.join(built.clone(), streamed),
                    }
                }
                ShuffledLayout::SmallLeft { left, right } => {
                    self.semi_join_small_left(left, right, ctx)
                }
            },
        }
    }
}
