//! Reading the numbers of the calibrate command line: ranges, tolerances and tables.

use anyhow::{bail, Result};

/// Parses `--range LO,HI`.
pub fn parse_range(raw: &str) -> Result<(f64, f64)> {
    let bad = || anyhow::anyhow!("--range {raw}: expected LO,HI with LO < HI, e.g. --range 0,1");
    let (lo, hi) = raw.split_once(',').ok_or_else(bad)?;
    let (lo, hi): (f64, f64) = (
        lo.trim().parse().map_err(|_| bad())?,
        hi.trim().parse().map_err(|_| bad())?,
    );
    if lo.is_finite() && hi.is_finite() && lo < hi {
        Ok((lo, hi))
    } else {
        Err(bad())
    }
}

/// Parses `--tolerance`: a share (`0.01`) or a percentage (`1%`).
pub fn parse_tolerance(raw: &str) -> Result<f64> {
    let bad = || {
        anyhow::anyhow!(
            "--tolerance {raw}: expected a share in (0, 1) or a percentage, e.g. 0.01 or 1%"
        )
    };
    let t = raw.trim();
    let x: f64 = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map_err(|_| bad())? / 100.0,
        None => t.parse().map_err(|_| bad())?,
    };
    if x > 0.0 && x < 1.0 {
        Ok(x)
    } else {
        Err(bad())
    }
}

/// Parses `--target-table "TAU:TPF,TAU:TPF,..."`.
pub fn parse_table(raw: &str) -> Result<Vec<(f64, f64)>> {
    let bad = |part: &str| {
        anyhow::anyhow!(
            "--target-table: `{part}` is not TAU:TPF with TAU in [0, 1] and TPF > 0, \
             e.g. \"0.5:7.01,0.7:5.12,0.9:3.25\""
        )
    };
    let mut out = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (t, y) = part.split_once(':').ok_or_else(|| bad(part))?;
        let (t, y): (f64, f64) = (
            t.trim().parse().map_err(|_| bad(part))?,
            y.trim().parse().map_err(|_| bad(part))?,
        );
        if !((0.0..=1.0).contains(&t) && y.is_finite() && y > 0.0) {
            return Err(bad(part));
        }
        out.push((t, y));
    }
    if out.len() < 2 {
        bail!("--target-table needs at least two TAU:TPF pairs");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerances_are_shares_or_percentages() {
        assert_eq!(parse_tolerance("0.02").unwrap(), 0.02);
        assert!((parse_tolerance("0.5%").unwrap() - 0.005).abs() < 1e-15);
        for bad in ["0", "1", "150%", "-1%", "tight"] {
            assert!(parse_tolerance(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ranges_and_tables_refuse_nonsense() {
        assert_eq!(parse_range("-6, 3").unwrap(), (-6.0, 3.0));
        assert!(parse_range("1,0").is_err() && parse_range("1").is_err());
        assert_eq!(
            parse_table("0.5:7.01, 0.9:3.25").unwrap(),
            [(0.5, 7.01), (0.9, 3.25)]
        );
        assert!(parse_table("0.5:7.01").is_err() && parse_table("2:3,0.5:1").is_err());
    }
}
