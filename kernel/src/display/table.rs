//! A DataFrame's head as a notebook table: `text/html` (column names with
//! their types, numbers right-aligned, nulls styled, long values cut with
//! the whole value on hover, a line saying more rows exist) beside
//! `text/plain` in Spark's `show()` format for consoles and text exports.

use serde_json::{json, Map, Value};

use kiln_engine::dataframe::Preview;
use kiln_engine::types::DataType;

use super::escape_html;

/// Scoped to `.kiln-table`; colours follow JupyterLab's theme variables
/// (with plain fallbacks for other front ends).
const STYLE: &str = "<style>\
.kiln-table{overflow-x:auto;font-size:12px}\
.kiln-table table{border-collapse:collapse;font-family:var(--jp-code-font-family,monospace)}\
.kiln-table th,.kiln-table td{padding:2px 8px;border-bottom:1px solid var(--jp-border-color2,#e0e0e0);white-space:pre;text-align:left;max-width:40em;overflow:hidden;text-overflow:ellipsis}\
.kiln-table th{vertical-align:bottom;border-bottom:2px solid var(--jp-border-color1,#bdbdbd)}\
.kiln-table .kiln-type{font-weight:normal;color:var(--jp-ui-font-color2,#757575);font-size:11px}\
.kiln-table .kiln-num{text-align:right}\
.kiln-table .kiln-null{color:var(--jp-ui-font-color3,#9e9e9e);font-style:italic}\
.kiln-table .kiln-more{color:var(--jp-ui-font-color2,#757575);padding:4px 0;font-size:11px}\
</style>";

/// The MIME bundle for a preview: HTML and `show()` text.
pub fn table_bundle(preview: &Preview, truncate: usize) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert(
        "text/plain".into(),
        json!(preview.show_string(truncate, false).trim_end_matches('\n')),
    );
    data.insert("text/html".into(), json!(html_table(preview, truncate)));
    data
}

/// The HTML table; every name and value is escaped.
pub fn html_table(preview: &Preview, truncate: usize) -> String {
    let numeric: Vec<bool> = preview
        .fields
        .iter()
        .map(|f| f.data_type.is_numeric() || matches!(f.data_type, DataType::DayTimeInterval(_)))
        .collect();
    let mut out = String::from("<div class=\"kiln-table\">");
    out.push_str(STYLE);
    out.push_str("<table><thead><tr>");
    for (field, &right) in preview.fields.iter().zip(&numeric) {
        out.push_str(&format!(
            "<th{}>{}<br><span class=\"kiln-type\">{}</span></th>",
            if right { " class=\"kiln-num\"" } else { "" },
            escape_html(&field.name),
            escape_html(&field.data_type.simple_string())
        ));
    }
    out.push_str("</tr></thead><tbody>");
    for (row, cells) in preview.rows.iter().zip(preview.cells()) {
        out.push_str("<tr>");
        for ((value, text), &right) in row.iter().zip(&cells).zip(&numeric) {
            if value.is_null() {
                out.push_str("<td class=\"kiln-null\">null</td>");
                continue;
            }
            let class = if right { " class=\"kiln-num\"" } else { "" };
            let shown = cut(text, truncate);
            if shown.len() == text.len() {
                out.push_str(&format!("<td{class}>{}</td>", escape_html(text)));
            } else {
                out.push_str(&format!(
                    "<td{class} title=\"{}\">{}</td>",
                    escape_html(text),
                    escape_html(&shown)
                ));
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    let rows = preview.rows.len();
    if preview.has_more {
        let word = if rows == 1 { "row" } else { "rows" };
        out.push_str(&format!(
            "<div class=\"kiln-more\">only showing top {rows} {word}</div>"
        ));
    } else if rows == 0 {
        out.push_str("<div class=\"kiln-more\">no rows</div>");
    }
    out.push_str("</div>");
    out
}

/// A long value cut to `truncate` characters with an ellipsis (0 keeps it whole).
fn cut(text: &str, truncate: usize) -> String {
    if truncate == 0 || text.chars().count() <= truncate {
        return text.to_string();
    }
    let head: String = text.chars().take(truncate.saturating_sub(1)).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_engine::types::StructField;
    use kiln_engine::value::Value;

    fn preview(rows: Vec<Vec<Value>>, has_more: bool) -> Preview {
        Preview {
            fields: vec![
                StructField::new("zone", DataType::String, true),
                StructField::new("trips", DataType::Long, true),
            ],
            rows,
            has_more,
            time_zone: chrono_tz::Tz::UTC,
        }
    }

    #[test]
    fn header_has_names_and_types_and_numbers_align_right() {
        let html = html_table(
            &preview(
                vec![vec![Value::String("JFK".into()), Value::Long(7)]],
                false,
            ),
            20,
        );
        assert!(html.contains("<th>zone<br><span class=\"kiln-type\">string</span></th>"));
        assert!(html.contains(
            "<th class=\"kiln-num\">trips<br><span class=\"kiln-type\">bigint</span></th>"
        ));
        assert!(html.contains("<td>JFK</td><td class=\"kiln-num\">7</td>"));
        assert!(!html.contains("only showing"));
    }

    #[test]
    fn nulls_long_values_and_markup_are_shown_safely() {
        let long = "Upper East Side North <b>".to_string();
        let html = html_table(
            &preview(vec![vec![Value::String(long.clone()), Value::Null]], true),
            10,
        );
        assert!(html.contains("<td class=\"kiln-null\">null</td>"));
        assert!(html.contains("title=\"Upper East Side North &lt;b&gt;\">Upper Eas…</td>"));
        assert!(html.contains("only showing top 1 row"));
        assert!(!html.contains("<b>"));
    }

    #[test]
    fn plain_text_is_sparks_show_format() {
        let data = table_bundle(
            &preview(
                vec![vec![Value::String("JFK".into()), Value::Long(7)]],
                true,
            ),
            20,
        );
        assert_eq!(
            data["text/plain"],
            "+----+-----+\n|zone|trips|\n+----+-----+\n| JFK|    7|\n+----+-----+\nonly showing top 1 row"
        );
    }
}
