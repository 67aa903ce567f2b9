//! `summary.json`: the summary together with everything needed to reproduce it.

use serde_json::{json, Map, Value};

use crate::record::ConfigRuns;
use crate::report::summary::Summary;

/// Renders `summary.json` as pretty JSON with a trailing newline: the crate version, the
/// seed, the resolved `scenario`, and per configuration its label, its fully resolved
/// settings (`resolved[i]`) and its [`Summary`]. Key order is fixed so reruns diff cleanly.
///
/// # Panics
///
/// If `runs`, `summaries` and `resolved` differ in length, which is a caller bug.
pub fn summary_json(
    scenario: &Value,
    seed: u64,
    runs: &[ConfigRuns],
    summaries: &[Summary],
    resolved: &[Value],
) -> serde_json::Result<Vec<u8>> {
    assert_eq!(runs.len(), summaries.len(), "one summary per configuration");
    assert_eq!(
        runs.len(),
        resolved.len(),
        "one resolved scenario per configuration"
    );
    let configurations = runs
        .iter()
        .zip(summaries)
        .zip(resolved)
        .map(|((config, summary), resolved)| {
            let label = &config.label;
            let swept: Map<String, Value> = label
                .swept
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            let mut entry = json!({
                "config": label.index,
                "case": label.case,
                "swept": swept,
                "resolved": resolved,
                "summary": serde_json::to_value(summary)?,
            });
            // Only timed configurations get the key, so untimed files stay as they were.
            if let (Some(system), Some(timing)) = (&label.system, super::timing::timing(config)) {
                entry["system"] = json!({ "layout": system, "timing": timing });
            }
            Ok(entry)
        })
        .collect::<serde_json::Result<Vec<Value>>>()?;
    let doc = json!({
        "lopa_sim_version": env!("CARGO_PKG_VERSION"),
        "seed": seed,
        "scenario": scenario,
        "configurations": configurations,
    });
    let mut bytes = serde_json::to_vec_pretty(&doc)?;
    bytes.push(b'\n');
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::summarize;
    use crate::report::test_data::two_configs;

    #[test]
    fn document_shape_and_values() {
        let runs = two_configs();
        let sums: Vec<Summary> = runs.iter().map(summarize).collect();
        let scenario = json!({"name": "demo", "sequences": 2});
        let resolved = vec![
            json!({"search": {"branches": 2}}),
            json!({"search": {"branches": 4}}),
        ];
        let bytes = summary_json(&scenario, 7, &runs, &sums, &resolved).unwrap();
        assert!(bytes.ends_with(b"}\n"));
        let doc: Value = serde_json::from_slice(&bytes).unwrap();
        let top: Vec<&str> = doc
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            top,
            ["lopa_sim_version", "seed", "scenario", "configurations"]
        );
        assert_eq!(doc["lopa_sim_version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(doc["seed"], 7);
        assert_eq!(doc["scenario"], scenario);

        let c0 = &doc["configurations"][0];
        assert_eq!(c0["config"], 0);
        assert_eq!(c0["case"], Value::Null);
        let swept: Vec<(&str, &str)> = c0["swept"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
            .collect();
        assert_eq!(
            swept,
            [("search.branches", "2"), ("decoder.fill_threshold", "0.8")]
        );
        assert_eq!(c0["resolved"], resolved[0]);
        assert_eq!(c0["summary"]["sequences"], 2);
        assert_eq!(c0["summary"]["invalid_per_1k"], 62.5);
        assert_eq!(c0["summary"]["plan_consistent_rate"], Value::Null);

        let c1 = &doc["configurations"][1];
        assert_eq!(c1["case"], "long");
        assert_eq!(c1["summary"]["tpf"], 4.0);
        assert_eq!(c1["summary"]["token_errors_per_1k"], 2000.0 / 12.0);
        let summary_keys: Vec<&str> = c1["summary"]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(summary_keys.len(), 18);
        assert_eq!(summary_keys[..3], ["sequences", "tpf", "tpf_mean"]);
    }

    #[test]
    fn floats_keep_their_decimal_point() {
        let runs = two_configs();
        let sums: Vec<Summary> = runs.iter().map(summarize).collect();
        let resolved = vec![Value::Null, Value::Null];
        let text =
            String::from_utf8(summary_json(&Value::Null, 0, &runs, &sums, &resolved).unwrap())
                .unwrap();
        assert!(text.contains("\"tpf\": 4.0,"), "{text}");
        assert!(!text.contains("NaN"));
    }
}
