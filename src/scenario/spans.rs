//! Where each key of a scenario file sits, so that every error can name its line.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// One key of the file with the byte span of `key = value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Leaf {
    /// `decoder.fill_threshold`, `sweep.search.branches`, `case[1].decoder.block_size`,
    /// or `case[1]` for a case table itself.
    pub key: String,
    /// 1-based line of the key.
    pub line: usize,
    /// From the key's start to the value's end.
    pub span: Range<usize>,
}

/// The keys of one scenario file and their lines.
#[derive(Clone, Debug, Default)]
pub struct Spans {
    line_starts: Vec<usize>,
    leaves: Vec<Leaf>,
}

impl Spans {
    /// Reads the spans of `text`; an unparsable file has none.
    pub fn new(text: &str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut spans = Spans {
            line_starts,
            leaves: Vec::new(),
        };
        if let Ok(root) = DeTable::parse(text) {
            spans.walk(root.get_ref(), "", 0);
        }
        spans
    }

    /// The 1-based line holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset)
    }

    /// The line of `key`, if the file has it.
    pub fn line(&self, key: &str) -> Option<usize> {
        self.leaves.iter().find(|l| l.key == key).map(|l| l.line)
    }

    /// The innermost key whose span holds byte `offset`.
    pub fn key_at(&self, offset: usize) -> Option<&Leaf> {
        self.leaves
            .iter()
            .filter(|l| l.span.contains(&offset))
            .min_by_key(|l| l.span.len())
    }

    fn walk(&mut self, table: &DeTable<'_>, prefix: &str, depth: usize) {
        for (key, value) in table {
            let name = if prefix.is_empty() {
                key.get_ref().to_string()
            } else {
                format!("{prefix}.{}", key.get_ref())
            };
            let span = key.span().start..value.span().end.max(key.span().end);
            let line = self.line_of(key.span().start);
            match value.get_ref() {
                DeValue::Table(inner) => {
                    self.leaves.push(Leaf {
                        key: name.clone(),
                        line,
                        span,
                    });
                    self.walk(inner, &name, depth + 1);
                }
                DeValue::Array(items) if depth == 0 && name == "case" => {
                    for (i, item) in items.into_iter().enumerate() {
                        let case = format!("case[{i}]");
                        self.leaves.push(Leaf {
                            key: case.clone(),
                            line: self.line_of(item.span().start),
                            span: item.span(),
                        });
                        if let DeValue::Table(inner) = item.get_ref() {
                            self.walk(inner, &case, depth + 1);
                        }
                    }
                }
                _ => self.leaves.push(Leaf {
                    key: name,
                    line,
                    span,
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_plain_sweep_and_case_keys() {
        let text = "name = \"x\"\n[decoder]\nfill_threshold = 0.9\n[sweep]\n\"search.branches\" = [0, 1]\n\n[[case]]\nname = \"a\"\ndecoder.block_size = 16\n";
        let s = Spans::new(text);
        assert_eq!(s.line("name"), Some(1));
        assert_eq!(s.line("decoder.fill_threshold"), Some(3));
        assert_eq!(s.line("sweep.search.branches"), Some(5));
        assert_eq!(s.line("case[0].name"), Some(8));
        assert_eq!(s.line("case[0].decoder.block_size"), Some(9));
        let at = text.find("0.9").unwrap();
        assert_eq!(s.key_at(at).unwrap().key, "decoder.fill_threshold");
    }
}
