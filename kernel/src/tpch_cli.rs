//! `kiln tpch`: runs TPC-H queries in Spark SQL over `kiln datagen tpch`
//! data on the engine, each collected in full and timed, one line per query
//! (`name<TAB>seconds<TAB>rows`) for the benchmark harness.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use kiln_engine::datagen::tpch::TABLES;
use kiln_engine::{EngineError, Session};

#[derive(Args)]
pub struct TpchArgs {
    /// The directory `kiln datagen tpch` wrote.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Queries separated by `;` lines, each starting with a `-- Qn ...` comment.
    #[arg(long, value_name = "FILE")]
    pub queries: PathBuf,
    #[arg(long, default_value = "local[*]")]
    pub master: String,
    /// Print each query's physical plan (Spark's `explain()` text) instead of running it.
    #[arg(long)]
    pub explain: bool,
    /// Print each query's first rows (Spark's `show()` text) or its error instead of timing it.
    #[arg(long)]
    pub show: bool,
}

pub fn run(args: TpchArgs) -> Result<(), EngineError> {
    let session = Session::new(&args.master)?;
    for table in TABLES {
        let path = args.data.join(table).display().to_string();
        let df = session.read("parquet", &[path], &[], None)?;
        session.create_temp_view(table, &df, true)?;
    }
    let text = std::fs::read_to_string(&args.queries)
        .map_err(|e| EngineError::io(args.queries.display().to_string(), e))?;
    for query in text.split(";\n").map(str::trim).filter(|q| !q.is_empty()) {
        let name = query
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("-- "))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or("query");
        if args.explain {
            println!("{name}\n{}", session.sql(query)?.explain_string());
            continue;
        }
        if args.show {
            match session
                .sql(query)
                .and_then(|df| df.show_string(30, 20, false))
            {
                Ok(text) => println!("{name}\n{text}"),
                Err(error) => println!("{name}\nerror: {error}"),
            }
            continue;
        }
        let started = Instant::now();
        let rows = session.sql(query)?.collect()?.len();
        println!("{name}\t{:.4}\t{rows}", started.elapsed().as_secs_f64());
    }
    Ok(())
}
