//! `DataFrame.show()` text, byte for byte as Spark's `showString` builds it.

/// Display width: East Asian wide and full-width characters count 2.
fn half_width(text: &str) -> usize {
    text.chars()
        .map(|c| {
            let cp = c as u32;
            let wide = matches!(cp,
                0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
                | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x2FFFD
                | 0x30000..=0x3FFFD);
            if wide {
                2
            } else {
                1
            }
        })
        .sum()
}

fn truncate_cell(text: &str, truncate: usize) -> String {
    let count = text.chars().count();
    if truncate == 0 || count <= truncate {
        return text.to_string();
    }
    if truncate < 4 {
        text.chars().take(truncate).collect()
    } else {
        let head: String = text.chars().take(truncate - 3).collect();
        format!("{head}...")
    }
}

fn pad(text: &str, width: usize, right_align: bool) -> String {
    let fill = " ".repeat(width.saturating_sub(half_width(text)));
    if right_align {
        format!("{fill}{text}")
    } else {
        format!("{text}{fill}")
    }
}

/// Renders a table. `rows` holds each cell's string (nulls already `NULL`);
/// `has_more` adds Spark's footer.
pub fn show_string(
    header: &[String],
    rows: &[Vec<String>],
    num_rows: usize,
    truncate: usize,
    vertical: bool,
    has_more: bool,
) -> String {
    // Spark 4 truncates cells but never the column names.
    let header: Vec<String> = header.to_vec();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| truncate_cell(c, truncate)).collect())
        .collect();
    let mut out = String::new();
    if vertical {
        let name_width = header.iter().map(|h| half_width(h)).fold(3, usize::max);
        let value_width = rows
            .iter()
            .flat_map(|r| r.iter().map(|c| half_width(c)))
            .fold(3, usize::max);
        let total = name_width + value_width + 5;
        if rows.is_empty() {
            out.push_str("(0 rows)\n");
        }
        for (i, row) in rows.iter().enumerate() {
            let title = format!("-RECORD {i}");
            let dashes = total.saturating_sub(title.len());
            out.push_str(&format!("{title}{}\n", "-".repeat(dashes)));
            for (name, cell) in header.iter().zip(row) {
                out.push_str(&format!(
                    " {} | {} \n",
                    pad(name, name_width, false),
                    pad(cell, value_width, false)
                ));
            }
        }
    } else {
        let mut widths: Vec<usize> = header.iter().map(|h| half_width(h).max(3)).collect();
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(half_width(cell));
            }
        }
        let separator = format!(
            "+{}+\n",
            widths
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .join("+")
        );
        let right_align = truncate > 0;
        let line = |cells: &[String]| {
            format!(
                "|{}|\n",
                cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| pad(c, *w, right_align))
                    .collect::<Vec<_>>()
                    .join("|")
            )
        };
        out.push_str(&separator);
        out.push_str(&line(&header));
        out.push_str(&separator);
        for row in &rows {
            out.push_str(&line(row));
        }
        out.push_str(&separator);
    }
    if has_more {
        let word = if num_rows == 1 { "row" } else { "rows" };
        // Spark 4 ends the note without a newline (`show()` prints one).
        out.push_str(&format!("only showing top {num_rows} {word}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn matches_spark_table() {
        let text = show_string(&s(&["id"]), &[s(&["0"]), s(&["1"])], 2, 20, false, true);
        assert_eq!(
            text,
            "+---+\n| id|\n+---+\n|  0|\n|  1|\n+---+\nonly showing top 2 rows"
        );
    }

    #[test]
    fn truncates_long_cells_and_left_aligns_without_truncation() {
        let long = "abcdefghijklmnopqrstuvwxyz";
        let text = show_string(&s(&["x"]), &[s(&[long])], 20, 20, false, false);
        assert!(text.contains("|abcdefghijklmnopq...|"), "{text}");
        let text = show_string(&s(&["name", "n"]), &[s(&["a", "10"])], 20, 0, false, false);
        assert_eq!(
            text,
            "+----+---+\n|name|n  |\n+----+---+\n|a   |10 |\n+----+---+\n"
        );
    }

    #[test]
    fn vertical_records() {
        let text = show_string(&s(&["id", "zone"]), &[s(&["1", "JFK"])], 1, 20, true, false);
        assert_eq!(text, "-RECORD 0---\n id   | 1   \n zone | JFK \n");
    }

    #[test]
    fn wide_characters_count_double() {
        let text = show_string(&s(&["c"]), &[s(&["日本"])], 20, 20, false, false);
        assert_eq!(text, "+----+\n|   c|\n+----+\n|日本|\n+----+\n");
    }
}
