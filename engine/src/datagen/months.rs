//! Months: parsing the `--months` text (`2021-01`, `2020-01..2021-07`,
//! comma lists) and the civil-calendar arithmetic the generators use.

use crate::error::{EngineError, Result};

/// Years a generated month may fall in (timestamps keep four-digit years).
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2999;

/// Parses `2021-01`, `2020-01..2021-07`, or a comma-separated list of these
/// into (year, month) pairs in the order given, without duplicates.
pub fn parse_months(text: &str) -> Result<Vec<(i32, u32)>> {
    let mut months = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        let bad = |why: &str| invalid(part, text, why);
        let (first, last) = match part.split_once("..") {
            Some((start, end)) => (
                parse_month(start.trim()).map_err(|why| bad(&why))?,
                parse_month(end.trim()).map_err(|why| bad(&why))?,
            ),
            None => {
                let month = parse_month(part).map_err(|why| bad(&why))?;
                (month, month)
            }
        };
        if first > last {
            return Err(bad("the range ends before it starts"));
        }
        let mut month = first;
        while month <= last {
            if !months.contains(&month) {
                months.push(month);
            }
            month = next_month(month);
        }
    }
    Ok(months)
}

/// Checks a (year, month) pair given directly rather than parsed.
pub(crate) fn check_month(year: i32, month: u32) -> Result<()> {
    check(year, month).map_err(|why| {
        let text = format!("{year:04}-{month:02}");
        invalid(&text, &text, &why)
    })
}

fn invalid(part: &str, text: &str, why: &str) -> EngineError {
    EngineError::spark(
        "INVALID_PARAMETER_VALUE",
        format!(
            "Invalid month \"{part}\" in \"{text}\": {why}. Expected YYYY-MM, a range \
             YYYY-MM..YYYY-MM, or a comma-separated list of these."
        ),
    )
}

fn parse_month(text: &str) -> std::result::Result<(i32, u32), String> {
    let Some((year, month)) = text.split_once('-') else {
        return Err("expected YYYY-MM".to_string());
    };
    let digits = |s: &str, lengths: &[usize]| {
        lengths.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(year, &[4]) || !digits(month, &[1, 2]) {
        return Err("expected YYYY-MM".to_string());
    }
    let year: i32 = year.parse().map_err(|_| "expected YYYY-MM".to_string())?;
    let month: u32 = month.parse().map_err(|_| "expected YYYY-MM".to_string())?;
    check(year, month)?;
    Ok((year, month))
}

fn check(year: i32, month: u32) -> std::result::Result<(), String> {
    if !(1..=12).contains(&month) {
        return Err("the month must be between 01 and 12".to_string());
    }
    if !YEARS.contains(&year) {
        return Err(format!(
            "the year must be between {} and {}",
            YEARS.start(),
            YEARS.end()
        ));
    }
    Ok(())
}

fn next_month((year, month): (i32, u32)) -> (i32, u32) {
    if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    }
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `days` after 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

pub(crate) fn days_in_month(year: i32, month: u32) -> u32 {
    let (next_year, next) = next_month((year, month));
    (days_from_civil(next_year, next, 1) - days_from_civil(year, month, 1)) as u32
}

/// 0 = Monday … 6 = Sunday.
pub(crate) fn weekday(days: i64) -> u32 {
    // 1970-01-01 was a Thursday.
    (days + 3).rem_euclid(7) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_months_forms() {
        assert_eq!(parse_months("2021-01").unwrap(), vec![(2021, 1)]);
        assert_eq!(
            parse_months("2020-01,2020-03").unwrap(),
            vec![(2020, 1), (2020, 3)]
        );
        let range = parse_months("2020-01..2021-07").unwrap();
        assert_eq!(range.len(), 19);
        assert_eq!(range.first(), Some(&(2020, 1)));
        assert_eq!(range[11..13], [(2020, 12), (2021, 1)]);
        assert_eq!(range.last(), Some(&(2021, 7)));
        assert_eq!(
            parse_months(" 2019-11..2020-02 , 2020-01, 2021-6 ").unwrap(),
            vec![(2019, 11), (2019, 12), (2020, 1), (2020, 2), (2021, 6)]
        );
    }

    #[test]
    fn parse_months_errors_name_the_bad_part() {
        let message = |text: &str| parse_months(text).unwrap_err().to_string();
        let m = message("2020-01,2020-13");
        assert!(m.contains("INVALID_PARAMETER_VALUE"), "{m}");
        assert!(m.contains("\"2020-13\""), "{m}");
        assert!(m.contains("between 01 and 12"), "{m}");
        let m = message("2021-07..2020-01");
        assert!(m.contains("\"2021-07..2020-01\""), "{m}");
        assert!(m.contains("ends before it starts"), "{m}");
        let m = message("2020-01,");
        assert!(m.contains("Invalid month \"\""), "{m}");
        let m = message("jan-2020");
        assert!(
            m.contains("\"jan-2020\"") && m.contains("expected YYYY-MM"),
            "{m}"
        );
        let m = message("20201-01");
        assert!(m.contains("expected YYYY-MM"), "{m}");
        let m = message("1800-01");
        assert!(m.contains("year must be between 1900 and 2999"), "{m}");
        assert!(check_month(2021, 0).is_err());
        assert!(check_month(2021, 12).is_ok());
    }

    #[test]
    fn calendar() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2021, 1, 1), 18_628);
        assert_eq!(civil_from_days(18_628), (2021, 1, 1));
        assert_eq!(civil_from_days(days_from_civil(2020, 2, 29)), (2020, 2, 29));
        assert_eq!(days_in_month(2020, 2), 29);
        assert_eq!(days_in_month(2021, 2), 28);
        assert_eq!(days_in_month(2021, 12), 31);
        // 2021-01-01 was a Friday.
        assert_eq!(weekday(days_from_civil(2021, 1, 1)), 4);
    }
}
