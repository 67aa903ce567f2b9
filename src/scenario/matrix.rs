//! Reading and checking a stochastic matrix from a CSV file (SPEC 2): no header, one row
//! per line, comma-separated, non-negative, each row summing to 1 within 1e-6.

use std::path::Path;

use csv::{ReaderBuilder, Trim};
use ndarray::Array2;

/// How far a row sum may stray from 1.
pub const ROW_SUM_TOLERANCE: f64 = 1e-6;

/// Reads a row-stochastic matrix with `cols` columns (any count when `None`). The error
/// names the file and, where there is one, the line.
pub fn read_stochastic(path: &Path, cols: Option<usize>) -> Result<Array2<f64>, String> {
    let shown = path.display();
    crate::input::check(path, crate::input::MATRIX)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(Trim::All)
        .from_path(path)
        .map_err(|e| format!("cannot read {shown}: {}", io_reason(&e)))?;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("cannot read {shown}: {e}"))?;
        let line = record.position().map_or(0, |p| p.line());
        let mut row = Vec::with_capacity(record.len());
        for (col, field) in record.iter().enumerate() {
            let x: f64 = field.parse().map_err(|_| {
                // A damaged file can hold a megabyte in one field: quote its start only.
                let quoted = match field.char_indices().nth(40) {
                    Some((cut, _)) => format!("{}...", &field[..cut]),
                    None => field.to_string(),
                };
                format!(
                    "{shown}:{line}: entry {} `{quoted}` is not a number",
                    col + 1
                )
            })?;
            if !x.is_finite() || x < 0.0 {
                return Err(format!(
                    "{shown}:{line}: entry {} is {x}; entries must be finite and non-negative",
                    col + 1
                ));
            }
            row.push(x);
        }
        let width = cols.unwrap_or_else(|| rows.first().map_or(row.len(), Vec::len));
        if row.len() != width {
            return Err(format!(
                "{shown}:{line}: row has {} entries, but the matrix needs {width}",
                row.len()
            ));
        }
        let sum: f64 = row.iter().sum();
        if (sum - 1.0).abs() > ROW_SUM_TOLERANCE {
            return Err(format!(
                "{shown}:{line}: row sums to {sum}, not 1 (tolerance {ROW_SUM_TOLERANCE})"
            ));
        }
        rows.push(row);
    }
    let Some(width) = rows.first().map(Vec::len) else {
        return Err(format!("{shown}: the file holds no rows"));
    };
    let n = rows.len();
    Array2::from_shape_vec((n, width), rows.concat()).map_err(|e| format!("{shown}: {e}"))
}

/// Reads a square row-stochastic matrix.
pub fn read_square(path: &Path) -> Result<Array2<f64>, String> {
    let m = read_stochastic(path, None)?;
    if m.nrows() != m.ncols() {
        return Err(format!(
            "{}: the matrix is not square: {} rows of {} entries",
            path.display(),
            m.nrows(),
            m.ncols()
        ));
    }
    Ok(m)
}

fn io_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    #[test]
    fn reads_a_square_stochastic_matrix() {
        let f = write("0.5, 0.5\n1,0\n");
        let m = read_square(f.path()).unwrap();
        assert_eq!(m[[1, 0]], 1.0);
    }

    #[test]
    fn names_the_line_of_each_defect() {
        let cases = [
            ("0.5,0.5\n0.2,0.2\n", ":2: row sums to 0.4"),
            ("0.5,0.5\n1,x\n", ":2: entry 2 `x` is not a number"),
            ("0.5,0.5\n1.5,-0.5\n", ":2: entry 2 is -0.5"),
            (
                "0.5,0.5\n1\n",
                ":2: row has 1 entries, but the matrix needs 2",
            ),
            ("0.5,0.5,0\n0.5,0.5,0\n", "not square: 2 rows of 3 entries"),
            ("", "holds no rows"),
        ];
        for (text, want) in cases {
            let f = write(text);
            let e = read_square(f.path()).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
        }
        let e = read_square(Path::new("/nonexistent/t.csv")).unwrap_err();
        assert!(e.contains("cannot read /nonexistent/t.csv"), "{e}");
    }
}
