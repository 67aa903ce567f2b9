//! `report.html`: one self-contained page with the resolved scenario, the summary table and
//! every figure as inline SVG. It links nothing outside itself, so it can be shared as a
//! single file.

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// An SVG document made fit for inlining: no XML prolog, no namespace URL (HTML5 does not
/// need it, and the page then names no outside address at all), and scaled to the page.
fn inline_svg(svg: &str) -> String {
    let start = svg.find("<svg").unwrap_or(0);
    svg[start..]
        .replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1)
        .replacen("<svg ", "<svg style=\"max-width:100%;height:auto\" ", 1)
}

/// Renders the page. `summary_csv` is the text of `summary.csv`; `figures` are
/// (name, SVG text) pairs in display order.
pub fn report_html(
    name: &str,
    scenario_json: &str,
    summary_csv: &str,
    figures: &[(String, String)],
) -> String {
    let mut rows = summary_csv.lines();
    let header = rows.next().unwrap_or_default();
    let mut table = String::from("<div class=\"wide\"><table>\n<thead><tr>");
    for h in header.split(',') {
        table.push_str(&format!("<th>{}</th>", escape(h)));
    }
    table.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        table.push_str("<tr>");
        for cell in csv_cells(row) {
            table.push_str(&format!("<td>{}</td>", escape(&cell)));
        }
        table.push_str("</tr>\n");
    }
    table.push_str("</tbody></table></div>");
    let mut figs = String::new();
    for (fig, svg) in figures {
        figs.push_str(&format!(
            "<figure id=\"{id}\">\n{svg}\n<figcaption>{id}</figcaption>\n</figure>\n",
            id = escape(fig),
            svg = inline_svg(svg)
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>lopa-sim: {title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n\
         <h1>lopa-sim: {title}</h1>\n<h2>Summary</h2>\n{table}\n<h2>Figures</h2>\n{figs}\
         <h2>Resolved scenario</h2>\n<pre>{scenario}</pre>\n\
         <p>lopa-sim {version}</p>\n</body>\n</html>\n",
        title = escape(name),
        scenario = escape(scenario_json),
        version = env!("CARGO_PKG_VERSION"),
    )
}

const STYLE: &str = "body { font-family: sans-serif; margin: 2em; color: #222; }\n\
table { border-collapse: collapse; font-size: 0.85em; }\n\
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }\n\
th { background: #eee; }\n\
figure { margin: 2em 0; }\n\
.wide { overflow-x: auto; }\n\
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }\n";

/// Splits one CSV line; the summary's cells never hold quotes except around commas in
/// case names, which the csv crate quotes.
fn csv_cells(line: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    reader
        .records()
        .next()
        .and_then(Result::ok)
        .map(|r| r.iter().map(String::from).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_inlines_figures_and_links_nothing() {
        let svg = "<?xml version=\"1.0\"?>\n<svg width=\"10\" height=\"10\" viewBox=\"0 0 10 10\" xmlns=\"http://www.w3.org/2000/svg\"><text>TPF &amp; k</text></svg>";
        let page = report_html(
            "demo <1>",
            "{\"name\": \"demo\"}",
            "config,tpf\n0,3.5\n",
            &[("tpf_vs_branches".into(), svg.into())],
        );
        assert!(page.contains("<td>3.5</td>") && page.contains("<th>tpf</th>"));
        assert!(page.contains("<text>TPF &amp; k</text>"));
        assert!(page.contains("demo &lt;1&gt;"));
        assert!(!page.contains("http") && !page.contains("<?xml"));
        assert!(!page.contains("src=") && !page.contains("href="));
    }
}
