//! `report.html`: one self-contained page with the resolved scenario, the summary table and
//! every figure as inline SVG. It links nothing outside itself, so it can be shared as a
//! single file.

use super::text_check;

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

/// A number cut to 4 significant figures (trailing zeros dropped, scientific notation from
/// 10^4 up); anything that is not a decimal number is returned as it is. The CSVs keep
/// full precision; the page is for reading.
pub fn sig4(cell: &str) -> String {
    let is_decimal = cell.contains('.') || cell.contains('e') || cell.contains('E');
    let Ok(x) = cell.parse::<f64>() else {
        return cell.to_string();
    };
    if !x.is_finite() || (!is_decimal && x.abs() < 1e4) {
        return cell.to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let mag = x.abs().log10().floor() as i32;
    if !(-4..4).contains(&mag) {
        let s = format!("{x:.3e}");
        // "1.230e4" -> "1.23e4"
        return match s.split_once('e') {
            Some((m, e)) if m.contains('.') => {
                format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.'))
            }
            _ => s,
        };
    }
    let decimals = (3 - mag).max(0) as usize;
    let s = format!("{x:.decimals$}");
    // Rounding can carry into a new digit (9.9996 -> 10.000): keep 4 figures.
    let s = if s
        .trim_start_matches('-')
        .split('.')
        .next()
        .map_or(0, str::len)
        > (mag + 1).max(1) as usize
    {
        format!("{x:.prec$}", prec = decimals.saturating_sub(1))
    } else {
        s
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The most value columns one table shows; the label columns repeat in each table, so no
/// table needs horizontal scrolling.
const COLUMNS_PER_TABLE: usize = 6;

fn summary_tables(summary_csv: &str) -> String {
    let mut lines = summary_csv.lines();
    let header = csv_cells(lines.next().unwrap_or_default());
    let rows: Vec<Vec<String>> = lines.map(csv_cells).collect();
    // Label columns: config, case and the swept keys, everything before `sequences`.
    let labels = header
        .iter()
        .position(|h| h == "sequences")
        .unwrap_or(1.min(header.len()));
    let values: Vec<usize> = (labels..header.len()).collect();
    let mut out = String::new();
    for chunk in values.chunks(COLUMNS_PER_TABLE) {
        let cols: Vec<usize> = (0..labels).chain(chunk.iter().copied()).collect();
        out.push_str("<table>\n<thead><tr>");
        for &c in &cols {
            out.push_str(&format!("<th>{}</th>", escape(&header[c])));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for row in &rows {
            out.push_str("<tr>");
            for &c in &cols {
                let cell = row.get(c).map_or("", String::as_str);
                let text = if c < labels {
                    cell.to_string()
                } else {
                    sig4(cell)
                };
                out.push_str(&format!("<td>{}</td>", escape(&text)));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table>\n");
    }
    out
}

/// The repetitive-text warning of [`super::repetitive_text`], read back from `summary.csv`
/// so that `lopa-sim plot` redraws the same page: empty when every configuration passes.
fn repetitive_notice(summary_csv: &str) -> String {
    let mut lines = summary_csv.lines();
    let header = csv_cells(lines.next().unwrap_or_default());
    let Some(d2) = header.iter().position(|h| h == "distinct2") else {
        return String::new();
    };
    let labels = header.iter().position(|h| h == "sequences").unwrap_or(1);
    let rows = lines.map(csv_cells).filter_map(|row| {
        let parts: Vec<String> = (1..labels)
            .filter_map(|c| Some(format!("{}={}", header[c], row.get(c)?)))
            .collect();
        let d = row.get(d2).and_then(|d| d.parse::<f64>().ok());
        Some((text_check::named(row.first()?, &parts), d))
    });
    let low: Vec<String> = text_check::below_bar(rows)
        .iter()
        .map(|(name, d)| format!("{name}: {d:.2}"))
        .collect();
    if low.is_empty() {
        return String::new();
    }
    format!(
        "<p><strong>Warning: repetitive text.</strong> Mean <code>distinct2</code> below {} \
         ({}), {}: {}.</p>\n",
        text_check::REPETITIVE_BELOW,
        text_check::NATURAL,
        text_check::CONSEQUENCE,
        escape(&low.join("; "))
    )
}

/// Renders the page. `summary_csv` is the text of `summary.csv`; `figures` are
/// (name, caption, SVG text) triples in display order; `scenario_json` is the scenario
/// after `--set`, and `configurations` holds (title, resolved keys as JSON) per
/// configuration, each shown in its own collapsible block.
pub fn report_html(
    name: &str,
    scenario_json: &str,
    summary_csv: &str,
    figures: &[(String, String, String)],
    configurations: &[(String, String)],
) -> String {
    let tables = summary_tables(summary_csv);
    let notice = repetitive_notice(summary_csv);
    let mut figs = String::new();
    for (fig, caption, svg) in figures {
        let caption = if caption.is_empty() { fig } else { caption };
        figs.push_str(&format!(
            "<figure id=\"{id}\">\n{svg}\n<figcaption><b>{id}</b>: {caption}</figcaption>\n</figure>\n",
            id = escape(fig),
            caption = escape(caption),
            svg = inline_svg(svg)
        ));
    }
    let mut configs = String::new();
    for (title, json) in configurations {
        configs.push_str(&format!(
            "<details><summary>{}</summary>\n<pre>{}</pre></details>\n",
            escape(title),
            escape(json)
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>lopa-sim: {title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n\
         <h1>lopa-sim: {title}</h1>\n<h2>Summary</h2>\n{notice}\
         <p>Numbers are rounded to 4 significant figures; <code>summary.csv</code> keeps \
         them in full.</p>\n{tables}<h2>Figures</h2>\n{figs}\
         <h2>Scenario</h2>\n<pre>{scenario}</pre>\n\
         <h2>Configurations, fully resolved</h2>\n{configs}\
         <p>lopa-sim {version}</p>\n</body>\n</html>\n",
        title = escape(name),
        scenario = escape(scenario_json),
        version = env!("LOPA_SIM_VERSION"),
    )
}

const STYLE: &str = "body { font-family: sans-serif; margin: 2em auto; max-width: 72em; \
padding: 0 1em; color: #222; }\n\
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; max-width: 100%; }\n\
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }\n\
td { white-space: nowrap; }\n\
th { background: #eee; overflow-wrap: anywhere; max-width: 9em; }\n\
figure { margin: 2em 0; }\n\
figcaption { max-width: 60em; }\n\
pre { background: #f6f6f6; padding: 1em; white-space: pre-wrap; overflow-wrap: anywhere; }\n\
summary { cursor: pointer; }\n";

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
            "config,sequences,tpf\n0,4,3.5123456\n",
            &[(
                "tpf_vs_branches".into(),
                "How to read it.".into(),
                svg.into(),
            )],
            &[("config 0".into(), "{\"seed\": 1}".into())],
        );
        assert!(
            page.contains("<td>3.512</td>") && page.contains("<th>tpf</th>"),
            "{page}"
        );
        assert!(page.contains("How to read it.") && page.contains("<details>"));
        assert!(page.contains("<text>TPF &amp; k</text>"));
        assert!(page.contains("demo &lt;1&gt;"));
        assert!(!page.contains("http") && !page.contains("<?xml"));
        assert!(!page.contains("src=") && !page.contains("href="));
    }

    #[test]
    fn repetitive_text_is_flagged_on_the_page() {
        let csv = "config,search.branches,sequences,tpf,distinct2\n0,0,4,2.5,0.5\n1,8,4,8.0,0.21\n2,16,4,9.0,\n";
        let page = report_html("demo", "{}", csv, &[], &[]);
        assert!(
            page.contains("repetitive text")
                && page.contains("configuration 1 (search.branches=8): 0.21"),
            "{page}"
        );
        assert!(!page.contains("configuration 0 (") && !page.contains("configuration 2 ("));
        let clean = report_html(
            "demo",
            "{}",
            "config,sequences,distinct2\n0,4,0.5\n",
            &[],
            &[],
        );
        assert!(!clean.contains("repetitive"), "{clean}");
    }

    #[test]
    fn four_significant_figures() {
        for (cell, want) in [
            ("3.5123456", "3.512"),
            ("0.9247412982126059", "0.9247"),
            ("162.65625", "162.7"),
            ("-18.682441529366017", "-18.68"),
            ("9.99996", "10"),
            ("0.0", "0"),
            ("1.0", "1"),
            ("21.433102081268583", "21.43"),
            ("12345.678", "1.235e4"),
            ("0.00001234567", "1.235e-5"),
            ("64", "64"),
            ("GSM8K/markov", "GSM8K/markov"),
            ("", ""),
        ] {
            assert_eq!(sig4(cell), want, "{cell}");
        }
    }

    #[test]
    fn wide_summaries_split_into_tables_that_repeat_the_labels() {
        let header = "config,case,sequences,a,b,c,d,e,f,g,h,i";
        let csv = format!("{header}\n0,x,4,1,2,3,4,5,6,7,8,9.123456\n");
        let t = summary_tables(&csv);
        assert_eq!(t.matches("<table>").count(), 2);
        assert_eq!(t.matches("<th>case</th>").count(), 2);
        assert!(t.contains("<td>9.123</td>"));
    }
}
