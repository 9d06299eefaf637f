//! A physical plan's stages as an SVG picture for the notebook: one box per
//! stage (its operators and task count), sources on the left, and an arrow
//! per exchange labelled with how rows move (`hashpartitioning(k, 200)`,
//! `broadcast`), so a student sees why a group-by has two stages and a join
//! with a small table is a broadcast.

use kiln_engine::format::explain::Stage;

use super::escape_html;

const CHAR_WIDTH: usize = 7;
const LINE_HEIGHT: usize = 16;
const GAP_X: usize = 170;
const GAP_Y: usize = 24;
const PAD: usize = 10;

struct Placed {
    x: usize,
    y: usize,
    width: usize,
    height: usize,
}

/// The SVG for `stages` (sources first, as `stage_graph` gives them).
pub fn stage_graph_svg(stages: &[Stage]) -> String {
    // Columns by depth: a stage sits right of everything feeding it.
    let mut depth = vec![0usize; stages.len()];
    for stage in stages {
        depth[stage.id] = stage
            .inputs
            .iter()
            .map(|(input, _)| depth[*input] + 1)
            .max()
            .unwrap_or(0);
    }
    let columns = depth.iter().max().map_or(0, |d| d + 1);
    let sizes: Vec<(usize, usize)> = stages
        .iter()
        .map(|s| {
            let widest = s
                .operators
                .iter()
                .map(|o| o.chars().count())
                .chain([title(s).chars().count()])
                .max()
                .unwrap_or(10);
            (
                widest * CHAR_WIDTH + 2 * PAD,
                (s.operators.len() + 1) * LINE_HEIGHT + 2 * PAD,
            )
        })
        .collect();
    let column_width: Vec<usize> = (0..columns)
        .map(|c| {
            stages
                .iter()
                .filter(|s| depth[s.id] == c)
                .map(|s| sizes[s.id].0)
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut column_x = Vec::with_capacity(columns);
    let mut x = PAD;
    for width in &column_width {
        column_x.push(x);
        x += width + GAP_X;
    }
    let mut next_y = vec![PAD; columns];
    let mut placed = Vec::with_capacity(stages.len());
    for stage in stages {
        let column = depth[stage.id];
        let (width, height) = sizes[stage.id];
        placed.push(Placed {
            x: column_x[column],
            y: next_y[column],
            width,
            height,
        });
        next_y[column] += height + GAP_Y;
    }
    let total_width = x.saturating_sub(GAP_X) + PAD;
    let total_height = next_y.iter().max().copied().unwrap_or(PAD) + PAD;

    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total_width}\" height=\"{total_height}\" \
         font-family=\"monospace\" font-size=\"12\">\
         <defs><marker id=\"kiln-arrow\" markerWidth=\"8\" markerHeight=\"8\" refX=\"8\" refY=\"4\" orient=\"auto\">\
         <path d=\"M0,0 L8,4 L0,8 z\" fill=\"#607d8b\"/></marker></defs>"
    );
    for stage in stages {
        let to = &placed[stage.id];
        for (input, how) in &stage.inputs {
            let from = &placed[*input];
            let (x1, y1) = (from.x + from.width, from.y + from.height / 2);
            let (x2, y2) = (to.x, to.y + to.height / 2);
            let colour = if how == "broadcast" {
                "#ef6c00"
            } else {
                "#607d8b"
            };
            svg.push_str(&format!(
                "<line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" stroke=\"{colour}\" stroke-width=\"1.5\" marker-end=\"url(#kiln-arrow)\"/>\
                 <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{colour}\" font-size=\"11\">{}</text>",
                (x1 + x2) / 2,
                (y1 + y2) / 2 - 4,
                escape_html(&shorten(how, GAP_X / 6))
            ));
        }
    }
    for (stage, at) in stages.iter().zip(&placed) {
        svg.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"#eceff1\" stroke=\"#90a4ae\"/>\
             <text x=\"{}\" y=\"{}\" font-weight=\"bold\">{}</text>",
            at.x,
            at.y,
            at.width,
            at.height,
            at.x + PAD,
            at.y + PAD + 11,
            escape_html(&title(stage))
        ));
        for (i, operator) in stage.operators.iter().enumerate() {
            svg.push_str(&format!(
                "<text x=\"{}\" y=\"{}\">{}</text>",
                at.x + PAD,
                at.y + PAD + 11 + (i + 1) * LINE_HEIGHT,
                escape_html(operator)
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A one-line description for text-only front ends.
pub fn stage_graph_text(stages: &[Stage]) -> String {
    let parts: Vec<String> = stages.iter().map(title).collect();
    format!("Stages: {}", parts.join(" → "))
}

fn title(stage: &Stage) -> String {
    match &stage.tasks {
        Some(tasks) => format!("Stage {} · {tasks} tasks", stage.id),
        None => format!("Stage {}", stage.id),
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let head: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group_by() -> Vec<Stage> {
        vec![
            Stage {
                id: 0,
                operators: vec!["HashAggregate".into(), "Filter".into(), "Range".into()],
                inputs: vec![],
                tasks: Some("2".into()),
            },
            Stage {
                id: 1,
                operators: vec!["HashAggregate".into()],
                inputs: vec![(0, "hashpartitioning((id % 2) AS k, 200)".into())],
                tasks: Some("up to 200".into()),
            },
        ]
    }

    #[test]
    fn a_group_by_is_two_boxes_joined_by_its_shuffle() {
        let svg = stage_graph_svg(&group_by());
        assert_eq!(svg.matches("<rect").count(), 2);
        assert_eq!(svg.matches("<line").count(), 1);
        assert!(svg.contains(">Stage 0 · 2 tasks</text>"), "{svg}");
        assert!(svg.contains(">Stage 1 · up to 200 tasks</text>"), "{svg}");
        assert!(
            svg.contains(">hashpartitioning((id % 2) A…</text>"),
            "{svg}"
        );
        assert_eq!(
            stage_graph_text(&group_by()),
            "Stages: Stage 0 · 2 tasks → Stage 1 · up to 200 tasks"
        );
    }
}
