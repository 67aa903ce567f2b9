//! TOML and serde errors phrased for the user: the file, line and key, the parser's quote
//! of the line cut short, and serde's type names replaced by what can be written.

use std::path::Path;

use super::spans::Spans;
use super::ScenarioError;

/// A scenario file that does not parse, or whose values do not fit their keys.
pub fn file_error(path: &Path, spans: &Spans, e: &toml::de::Error) -> ScenarioError {
    let at = e.span().map(|s| s.start);
    let leaf = at.and_then(|o| spans.key_at(o));
    let message = plain(&shorten(&e.to_string()));
    let message = message.trim_end();
    ScenarioError(match (at, leaf) {
        (Some(o), Some(l)) => format!(
            "{}:{}: key `{}`: {message}",
            path.display(),
            spans.line_of(o),
            l.key
        ),
        (Some(o), None) => format!("{}:{}: {message}", path.display(), spans.line_of(o)),
        _ => format!("{}: {message}", path.display()),
    })
}

/// serde's words for an integer type (the keys are read as `u64`) replaced by the range a
/// scenario can hold: TOML integers are signed 64-bit, so a seed of 2^64 - 1, valid as a
/// `u64`, cannot be written in a scenario at all.
pub fn plain(message: &str) -> String {
    let max = i64::MAX;
    message
        .replace(
            "expected u64",
            &format!("expected a whole number in 0..={max}"),
        )
        .replace(
            "u64 value was too large",
            &format!(
                "the number is larger than {max}, the largest a scenario holds (TOML \
                 integers are signed 64-bit); seeds and counts lie in 0..={max}"
            ),
        )
}

/// Why a `--set` value that looks like a whole number did not read as one, if it does.
pub fn integer_out_of_range(raw: &str) -> Option<String> {
    let digits = raw.trim().trim_start_matches(['+', '-']);
    let integral = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        && digits.bytes().any(|b| b.is_ascii_digit());
    if !integral {
        return None;
    }
    let raw = raw.trim();
    // TOML refuses a number that fits as well, for its form alone.
    if let Ok(n) = digits.replace('_', "").parse::<i64>() {
        let sign = if raw.starts_with('-') { "-" } else { "" };
        return Some(format!(
            "`{raw}` is not a TOML integer: write it with one sign at most, no leading \
             zeros and `_` only between digits, e.g. {sign}{n}"
        ));
    }
    Some(format!(
        "`{raw}` is outside {}..={}, the whole numbers a scenario holds (TOML integers are \
         signed 64-bit); seeds and counts lie in 0..={}",
        i64::MIN,
        i64::MAX,
        i64::MAX
    ))
}

/// The parser's message with each line cut to 160 characters: it quotes the offending
/// line, which in a damaged file can be megabytes long.
fn shorten(message: &str) -> String {
    message
        .lines()
        .map(|l| match l.char_indices().nth(160) {
            Some((cut, _)) => format!("{}...", &l[..cut]),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_beyond_toml_name_the_range() {
        let m = integer_out_of_range("18446744073709551615").unwrap();
        assert!(m.contains("0..=9223372036854775807"), "{m}");
        assert!(integer_out_of_range("-1_000_000_000_000_000_000_000").is_some());
        // In range, refused by TOML for its form: not called out of range.
        for form in ["007", "1__0"] {
            let m = integer_out_of_range(form).unwrap();
            assert!(
                m.contains("not a TOML integer") && !m.contains("outside"),
                "{m}"
            );
        }
        for not in ["1.5", "abc", "", "-", "1e30", "0x10"] {
            assert_eq!(integer_out_of_range(not), None, "{not}");
        }
        let m = plain("invalid value: integer `-1`, expected u64");
        assert_eq!(
            m,
            "invalid value: integer `-1`, expected a whole number in 0..=9223372036854775807"
        );
    }
}
