//! `GenerateExec`: the rows of `explode`, `posexplode` and `inline`, batch
//! by batch. Its input carries the collection as its last column; each row
//! comes out once per element, followed by the element's position (for
//! `posexplode`) and the element, or its key and value for a map, or its
//! fields for `inline`.

use std::sync::Arc;

use polars::prelude::{Column, DataFrame, ExplodeOptions, NamedFrom, Series};

use crate::error::{EngineError, Result};
use crate::exec::{from_polars, Batches, ExecutionPlan, TaskContext};
use crate::plan::PlanSchema;

#[derive(Debug)]
pub struct GenerateExec {
    /// The generator's input plus the collection, last.
    pub input: Arc<dyn ExecutionPlan>,
    pub position: bool,
    /// An empty or null collection yields one row of nulls instead of none.
    pub outer: bool,
    /// Each element is a struct (a map's entry, `inline`'s row) whose
    /// fields are the generated columns.
    pub split_struct: bool,
    /// The input's columns, then the generated ones.
    pub schema: PlanSchema,
}

impl GenerateExec {
    fn generate(&self, frame: DataFrame) -> Result<DataFrame> {
        let collection_name = frame
            .get_column_names()
            .last()
            .map(|n| n.to_string())
            .ok_or_else(|| EngineError::Internal("generator input without columns".into()))?;
        let positions = if self.position {
            let lists = frame
                .column(&collection_name)
                .and_then(|c| c.list())
                .map_err(from_polars)?;
            Some(element_positions(lists, self.outer))
        } else {
            None
        };
        let exploded = frame
            .explode(
                [collection_name.as_str()],
                ExplodeOptions {
                    empty_as_null: self.outer,
                    keep_nulls: self.outer,
                },
            )
            .map_err(from_polars)?;
        let mut columns: Vec<Column> = exploded.columns()[..exploded.width() - 1].to_vec();
        let generated = &self.schema.attrs[columns.len()..];
        let mut names = generated.iter().map(|a| a.physical.as_str());
        if let Some(positions) = positions {
            let name = names.next().unwrap_or("pos");
            columns.push(Series::new(name.into(), positions).into());
        }
        let elements = exploded.column(&collection_name).map_err(from_polars)?;
        let parts: Vec<Series> = if self.split_struct {
            struct_fields(elements.as_materialized_series())?
        } else {
            vec![elements.as_materialized_series().clone()]
        };
        for (part, name) in parts.into_iter().zip(names) {
            columns.push(part.with_name(name.into()).into());
        }
        DataFrame::new(exploded.height(), columns).map_err(from_polars)
    }
}

/// A struct column's fields, null where the struct itself is null (an
/// `inline_outer` row for a null array, a null element).
fn struct_fields(elements: &Series) -> Result<Vec<Series>> {
    let fields = elements.struct_().map_err(from_polars)?.fields_as_series();
    if elements.null_count() == 0 {
        return Ok(fields);
    }
    let present = elements.is_not_null();
    fields
        .into_iter()
        .map(|field| {
            let nulls = Series::full_null(field.name().clone(), field.len(), field.dtype());
            field.zip_with(&present, &nulls).map_err(from_polars)
        })
        .collect()
}

/// Each element's index within its row's list, in exploded order; a null
/// or empty list has one null position when `outer`, none otherwise.
fn element_positions(lists: &polars::prelude::ListChunked, outer: bool) -> Vec<Option<i32>> {
    let mut positions = Vec::new();
    for list in lists.amortized_iter() {
        match list.map(|l| l.as_ref().len()) {
            Some(n) if n > 0 => positions.extend((0..n as i32).map(Some)),
            _ if outer => positions.push(None),
            _ => {}
        }
    }
    positions
}

impl ExecutionPlan for GenerateExec {
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
        crate::exec::concat_batches(self, partition, ctx)
    }

    fn execute_batches<'a>(
        &'a self,
        partition: usize,
        ctx: &'a TaskContext,
    ) -> Result<Batches<'a>> {
        let input = self.input.execute_batches(partition, ctx)?;
        Ok(Box::new(input.map(move |batch| {
            ctx.cancel.check()?;
            self.generate(batch?)
        })))
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::element_positions;

    #[test]
    fn positions_follow_the_exploded_rows() {
        let lists = Series::new(
            "l".into(),
            [
                Some(Series::new("".into(), [1i32, 2, 3])),
                Some(Series::new("".into(), Vec::<i32>::new())),
                None,
                Some(Series::new("".into(), [4i32])),
            ],
        );
        let lists = lists.list().expect("a list series").clone();
        assert_eq!(
            element_positions(&lists, false),
            vec![Some(0), Some(1), Some(2), Some(0)]
        );
        assert_eq!(
            element_positions(&lists, true),
            vec![Some(0), Some(1), Some(2), None, None, Some(0)]
        );
    }
}
