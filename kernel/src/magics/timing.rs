//! `%time`, `%%time`, `%timeit` and `%%timeit`, printing what IPython prints.

use std::time::Instant;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::UsageError;
use crate::python::context::context;
use crate::python::runner;

/// C's `%.{precision}g`.
fn format_g(value: f64, precision: usize) -> String {
    if value == 0.0 {
        return "0".into();
    }
    let sci = format!("{:.*e}", precision - 1, value);
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if exponent < -4 || exponent >= precision as i32 {
        let mantissa = trim_zeros(mantissa);
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.abs());
    }
    let decimals = (precision as i32 - 1 - exponent).max(0) as usize;
    trim_zeros(&format!("{value:.decimals$}"))
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// IPython's `_format_time`: `1.23 ms`, `456 µs`, `2min 3s`.
pub fn format_time(seconds: f64) -> String {
    if seconds >= 60.0 {
        let mut parts = Vec::new();
        let mut left = seconds;
        for (suffix, length) in [("d", 86400.0), ("h", 3600.0), ("min", 60.0), ("s", 1.0)] {
            let value = (left / length).floor();
            if value > 0.0 {
                left %= length;
                parts.push(format!("{value}{suffix}"));
            }
            if left < 1.0 {
                break;
            }
        }
        return parts.join(" ");
    }
    let units = ["s", "ms", "\u{b5}s", "ns"];
    let order = if seconds > 0.0 {
        (-(seconds.log10().floor() as i64).div_euclid(3)).clamp(0, 3) as usize
    } else {
        3
    };
    let scaled = seconds * 1000f64.powi(order as i32);
    format!("{} {}", format_g(scaled, 3), units[order])
}

fn cpu_times() -> (f64, f64) {
    // SAFETY: getrusage fills the struct we pass.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (secs(usage.ru_utime), secs(usage.ru_stime))
}

/// Runs `source` (a line or a cell), then prints CPU and wall times; the value
/// of a final expression is returned, so it still shows as `Out`.
pub fn time(
    py: Python<'_>,
    ns: &Bound<'_, PyDict>,
    source: &str,
    _cell: bool,
) -> PyResult<Py<PyAny>> {
    let (user0, sys0) = cpu_times();
    let wall0 = Instant::now();
    let value = runner::run_source(py, ns, source, "<timed exec>")?;
    let wall = wall0.elapsed().as_secs_f64();
    let (user1, sys1) = cpu_times();
    let (user, sys) = (user1 - user0, sys1 - sys0);
    context()?.publisher.stream(
        "stdout",
        &format!(
            "CPU times: user {}, sys: {}, total: {}\nWall time: {}\n",
            format_time(user),
            format_time(sys),
            format_time(user + sys),
            format_time(wall)
        ),
    );
    Ok(value.map(|v| v.unbind()).unwrap_or_else(|| py.None()))
}

/// `source` indented by `width` spaces, or `pass` when it is empty.
fn indent(source: &str, width: usize) -> String {
    let pad = " ".repeat(width);
    if source.trim().is_empty() {
        return format!("{pad}pass");
    }
    source
        .lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `%timeit [-n N] [-r R] [-q] stmt` and `%%timeit [-n N] [-r R] [-q] [setup]`.
pub fn timeit(py: Python<'_>, ns: &Bound<'_, PyDict>, line: &str, cell: &str) -> PyResult<()> {
    let mut number: Option<u64> = None;
    let mut repeat: u64 = 7;
    let mut quiet = false;
    let mut rest = Vec::new();
    let mut words = line.split_whitespace().peekable();
    while let Some(word) = words.next() {
        let mut numeric = |flag: &str| -> PyResult<u64> {
            let value = match word.strip_prefix(flag).filter(|v| !v.is_empty()) {
                Some(v) => v.to_string(),
                None => words.next().unwrap_or("").to_string(),
            };
            value.parse().map_err(|_| {
                UsageError::new_err(format!("{flag} takes a whole number, not {value:?}"))
            })
        };
        if rest.is_empty() && word.starts_with("-n") {
            number = Some(numeric("-n")?.max(1));
        } else if rest.is_empty() && word.starts_with("-r") {
            repeat = numeric("-r")?.max(1);
        } else if rest.is_empty() && word == "-q" {
            quiet = true;
        } else {
            rest.push(word);
        }
    }
    let after_options = rest.join(" ");
    let (setup, stmt) = if cell.is_empty() {
        (String::new(), after_options)
    } else {
        (after_options, cell.to_string())
    };
    if stmt.trim().is_empty() {
        return Err(UsageError::new_err("%timeit needs a statement to time"));
    }
    let source = format!(
        "def __kiln_timeit(_it, _timer):\n{}\n    _t0 = _timer()\n    for _i in _it:\n{}\n    return _timer() - _t0\n",
        indent(&setup, 4),
        indent(&stmt, 8)
    );
    let builtins = py.import("builtins")?;
    let code = builtins.call_method1("compile", (source, "<magic-timeit>", "exec"))?;
    let local = PyDict::new(py);
    builtins.call_method1("exec", (code, ns, &local))?;
    let func = local
        .get_item("__kiln_timeit")?
        .ok_or_else(|| UsageError::new_err("%timeit could not compile the statement"))?;
    let timer = py.import("time")?.getattr("perf_counter")?;
    let repeat_fn = py.import("itertools")?.getattr("repeat")?;
    let run = |n: u64| -> PyResult<f64> {
        func.call1((repeat_fn.call1((py.None(), n))?, &timer))?
            .extract()
    };
    let number = match number {
        Some(n) => n,
        None => {
            let mut chosen = 1;
            'search: for scale in [1u64, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000] {
                for base in [1u64, 2, 5] {
                    chosen = base * scale;
                    if run(chosen)? >= 0.2 {
                        break 'search;
                    }
                }
            }
            chosen
        }
    };
    let mut per_loop = Vec::new();
    for _ in 0..repeat {
        per_loop.push(run(number)? / number as f64);
    }
    if !quiet {
        let mean = per_loop.iter().sum::<f64>() / per_loop.len() as f64;
        let std = (per_loop.iter().map(|t| (t - mean).powi(2)).sum::<f64>()
            / per_loop.len() as f64)
            .sqrt();
        let plural = |n: u64| if n == 1 { "" } else { "s" };
        context()?.publisher.stream(
            "stdout",
            &format!(
                "{} \u{b1} {} per loop (mean \u{b1} std. dev. of {repeat} run{}, {} loop{} each)\n",
                format_time(mean),
                format_time(std),
                plural(repeat),
                thousands(number),
                plural(number)
            ),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_format_like_ipython() {
        assert_eq!(format_time(0.00123), "1.23 ms");
        assert_eq!(format_time(0.000456), "456 \u{b5}s");
        assert_eq!(format_time(2.0), "2 s");
        assert_eq!(format_time(0.0), "0 ns");
        assert_eq!(format_time(123.0), "2min 3s");
        assert_eq!(format_time(4.53e-6), "4.53 \u{b5}s");
    }

    #[test]
    fn g_format() {
        assert_eq!(format_g(999.96, 3), "1e+03");
        assert_eq!(format_g(12.0, 3), "12");
        assert_eq!(format_g(0.5, 3), "0.5");
    }

    #[test]
    fn loop_counts_use_thousands_separators() {
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(100), "100");
    }
}
