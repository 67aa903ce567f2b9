//! `--variant NAME:KEY=VALUE,...`: a setting of one world that exists only for the
//! calibration. A target `NAME:STAT=X` is then measured on the scenario with the variant's
//! overrides added after the knobs, so one world file can be fitted to measurements taken
//! at two threshold settings (a standard and a lowered one) and still be written as one
//! configuration: the variants' overrides are never written.

use anyhow::{bail, Result};

/// One `--variant`: a name and the `KEY=VALUE` overrides it adds.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// The name a target's `CASE:` part uses.
    pub name: String,
    /// `KEY=VALUE` overrides, in order.
    pub sets: Vec<String>,
}

/// Parses `--variant NAME:KEY=VALUE[,KEY=VALUE...]`.
pub fn parse_variant(raw: &str) -> Result<Variant> {
    let example =
        "e.g. --variant 'lowered:decoder.activate_threshold=0.7,decoder.fill_threshold=0.7'";
    let Some((name, rest)) = raw.split_once(':') else {
        bail!("--variant {raw}: expected NAME:KEY=VALUE[,KEY=VALUE...], {example}");
    };
    let name = name.trim();
    if name.is_empty() || name.contains('=') {
        bail!("--variant {raw}: the name before `:` must be a plain word, {example}");
    }
    let mut sets = Vec::new();
    for part in rest.split(',') {
        let part = part.trim();
        match part.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
                sets.push(format!("{}={}", k.trim(), v.trim()))
            }
            _ => bail!("--variant {raw}: `{part}` is not KEY=VALUE, {example}"),
        }
    }
    Ok(Variant {
        name: name.to_string(),
        sets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_parse_and_bad_ones_say_what_is_valid() {
        let v =
            parse_variant("low: decoder.fill_threshold=0.7 ,decoder.add_threshold=0.1").unwrap();
        assert_eq!(v.name, "low");
        assert_eq!(
            v.sets,
            ["decoder.fill_threshold=0.7", "decoder.add_threshold=0.1"]
        );
        for bad in ["low", ":a=1", "low:a", "low:a=1,", "low:=1"] {
            let e = parse_variant(bad).unwrap_err().to_string();
            assert!(e.contains("--variant") && e.contains("e.g."), "{bad}: {e}");
        }
    }
}
