//! `kiln`: the Kiln Jupyter kernel and its command line.

mod datagen_cli;
mod display;
mod error;
mod history;
mod install;
mod interrupt;
mod kernel;
mod magics;
mod malloc_tuning;
mod protocol;
mod pyspark;
mod python;
mod rust;
mod tpch_cli;
mod workloads;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "kiln",
    version,
    about = "Kiln: Spark-style batch processing in a Jupyter kernel"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the kernel (what Jupyter starts through the kernelspec).
    Kernel {
        /// The connection file Jupyter wrote for this kernel.
        #[arg(long, short = 'f')]
        connection_file: PathBuf,
        /// The language of cells without a `%%python` / `%%rust` first line.
        #[arg(long, value_enum, default_value = "python")]
        language: rust::Language,
    },
    /// Install the Kiln kernelspec so Jupyter can start Kiln.
    Install(InstallArgs),
    /// Generate the course's sample data.
    #[command(subcommand)]
    Datagen(DatagenCommand),
    /// Run TPC-H queries on `kiln datagen tpch` data, timing each (the benchmark uses this).
    Tpch(tpch_cli::TpchArgs),
    /// Run one of the course's heavy steps on the engine (the benchmark uses this).
    Workload {
        /// csv_to_parquet, revenue_report, hourly_zones or global_sort.
        name: String,
        /// The data directory `kiln datagen taxi` wrote.
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// Where outputs go.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[arg(long, default_value = "local[*]")]
        master: String,
        /// A session setting, as spark-submit's `--conf key=value` (repeatable).
        #[arg(long, value_name = "KEY=VALUE")]
        conf: Vec<String>,
    },
}

#[derive(Subcommand)]
enum DatagenCommand {
    /// NYC-taxi-shaped zones and monthly green, yellow and fhvhv trip files.
    Taxi(datagen_cli::TaxiArgs),
    /// The eight TPC-H tables as Parquet, at any scale factor.
    Tpch(datagen_cli::TpchArgs),
}

#[derive(Args)]
struct InstallArgs {
    /// Install for the current user (the default).
    #[arg(long, conflicts_with_all = ["sys_prefix", "prefix"])]
    user: bool,
    /// Install into the Python environment Kiln was built against.
    #[arg(long, conflicts_with = "prefix")]
    sys_prefix: bool,
    /// Install under PREFIX/share/jupyter/kernels.
    #[arg(long, value_name = "DIR")]
    prefix: Option<PathBuf>,
    /// The kernelspec's name.
    #[arg(long, default_value = "kiln")]
    name: String,
    /// The name shown in the launcher.
    #[arg(long, default_value = "Kiln")]
    display_name: String,
}

fn main() -> ExitCode {
    // Rust cells run in a child that is this executable re-run as evcxr's
    // runtime: it must take over before anything else starts.
    evcxr::runtime_hook();
    malloc_tuning::tune();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Kernel {
            connection_file,
            language,
        } => kernel::run(&connection_file, language),
        Command::Datagen(DatagenCommand::Taxi(args)) => {
            datagen_cli::taxi(args).map_err(|e| error::KernelError::Engine(e.to_string()))
        }
        Command::Datagen(DatagenCommand::Tpch(args)) => {
            datagen_cli::tpch(args).map_err(|e| error::KernelError::Engine(e.to_string()))
        }
        Command::Workload {
            name,
            data,
            out,
            master,
            conf,
        } => workloads::run(&name, &data, &out, &master, &conf)
            .map_err(|e| error::KernelError::Engine(e.to_string())),
        Command::Tpch(args) => {
            tpch_cli::run(args).map_err(|e| error::KernelError::Engine(e.to_string()))
        }
        Command::Install(args) => {
            let location = match (args.user, args.sys_prefix, args.prefix) {
                (_, true, _) => install::Location::SysPrefix,
                (_, _, Some(prefix)) => install::Location::Prefix(prefix),
                _ => install::Location::User,
            };
            install::install(&location, &args.name, &args.display_name).map(|specs| {
                for (display_name, dir) in specs {
                    println!(
                        "Installed the {display_name} kernelspec in {}",
                        dir.display()
                    );
                }
            })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiln: {e}");
            ExitCode::FAILURE
        }
    }
}
