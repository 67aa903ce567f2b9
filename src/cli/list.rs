//! `run --list`: the configurations a scenario expands to, with every resolved key.

use std::fmt::Write as _;

use anyhow::Result;
use serde_json::Value;

use crate::scenario::Resolved;

/// Appends `value`'s leaves as `prefix.key = value` lines.
fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Null => {}
        v => out.push((prefix.to_string(), v.to_string())),
    }
}

/// One block per configuration: its number, case and swept values, then its resolved keys.
pub fn list(resolved: &[Resolved]) -> Result<String> {
    let mut out = String::new();
    for r in resolved {
        let l = &r.label;
        let mut head = format!("config {}", l.index);
        if let Some(case) = &l.case {
            let _ = write!(head, "  case={case}");
        }
        for (k, v) in &l.swept {
            let _ = write!(head, "  {k}={v}");
        }
        let _ = writeln!(out, "{head}  (k = {})", l.branches);
        let mut keys = Vec::new();
        flatten("", &serde_json::to_value(&r.doc)?, &mut keys);
        for (k, v) in keys {
            let _ = writeln!(out, "    {k} = {v}");
        }
    }
    let _ = writeln!(out, "{} configurations", resolved.len());
    Ok(out)
}
