//! Writing the calibrated scenario: the original file with the `--set` overrides and the
//! calibrated values filled in, comments kept, relative paths rewritten so the new file
//! runs from its own folder, and a `name` of its own so its results never overwrite the
//! original's.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use toml_edit::{DocumentMut, Item, TableLike};

use crate::report::write_atomic;
use crate::scenario::{parse_set_key, parse_set_value};

/// Keys whose values are paths relative to the scenario's folder.
const PATH_KEYS: &[&str] = &[
    "model.transitions",
    "model.hmm_transitions",
    "model.emissions",
    "model.initial",
    "model.plans",
];

/// Appended to the written scenario's `name` (and `output.dir`, when the file sets one).
pub const NAME_SUFFIX: &str = "-calibrated";

/// Checks, before any decoding, that `dest` can be written and is not `source` itself:
/// its folder is created and a probe file made and removed there.
pub fn check_writable(source: &Path, dest: &Path) -> Result<()> {
    if dest.is_dir() {
        bail!(
            "--write {}: is a folder; give a file name, e.g. {}",
            dest.display(),
            dest.join("calibrated.toml").display()
        );
    }
    if let (Ok(a), Ok(b)) = (std::fs::canonicalize(source), std::fs::canonicalize(dest)) {
        if a == b {
            bail!(
                "--write {}: is the scenario being calibrated; write the result to a new file",
                dest.display()
            );
        }
    }
    // A device or FIFO would be refused only at the end, after the whole calibration; the
    // temporary file goes beside the file a symlink points to, so that folder is probed.
    let target = match crate::report::atomic_target(dest) {
        Ok(target) => target,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            bail!("--write {}: {e}", dest.display())
        }
        // A path that cannot be looked up (a file where a folder should be): the folder
        // checks below say why.
        Err(_) => dest.to_path_buf(),
    };
    let dir = target.parent().unwrap_or(Path::new(""));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::fs::create_dir_all(dir).with_context(|| {
        format!(
            "--write {}: cannot create {}",
            dest.display(),
            dir.display()
        )
    })?;
    let name = dest
        .file_name()
        .ok_or_else(|| anyhow!("--write {}: names no file", dest.display()))?;
    let probe = dir.join(format!(
        ".{}.probe-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&probe, b"").with_context(|| {
        format!(
            "--write {}: cannot write in {}",
            dest.display(),
            dir.display()
        )
    })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Writes `source` with `sets` and every `key = value` of `values` applied to `dest`, its
/// `name` (and `output.dir`) suffixed with [`NAME_SUFFIX`] unless they already end so.
pub fn write_scenario(
    source: &Path,
    dest: &Path,
    sets: &[String],
    values: &[(String, toml::Value)],
) -> Result<()> {
    let text = crate::input::read_to_string(source, crate::input::SMALL)
        .with_context(|| format!("cannot read {}", source.display()))?;
    let mut doc: DocumentMut = text
        .parse()
        .with_context(|| format!("{} is not valid TOML", source.display()))?;
    for set in sets {
        let (k, v) = set
            .split_once('=')
            .ok_or_else(|| anyhow!("--set {set}: expected KEY=VALUE"))?;
        let path = parse_set_key(k.trim()).ok_or_else(|| anyhow!("--set {set}: bad key"))?;
        put(&mut doc, &path, &parse_set_value(v.trim()))?;
    }
    for (key, value) in values {
        put(
            &mut doc,
            &parse_set_key(key).ok_or_else(|| anyhow!("bad key {key}"))?,
            value,
        )?;
    }
    suffix(&mut doc, &["name"])?;
    suffix(&mut doc, &["output", "dir"])?;
    let from = source.parent().unwrap_or(Path::new(""));
    let to = dest.parent().unwrap_or(Path::new(""));
    if !to.as_os_str().is_empty() {
        std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    }
    rebase(doc.as_table_mut(), "", from, to);
    write_atomic(dest, doc.to_string().as_bytes())
        .with_context(|| format!("cannot write {}", dest.display()))
}

/// Appends [`NAME_SUFFIX`] to the string at `path`, when there is one.
fn suffix(doc: &mut DocumentMut, path: &[&str]) -> Result<()> {
    let mut item = doc.as_item();
    for part in path {
        match item.get(part) {
            Some(next) => item = next,
            None => return Ok(()),
        }
    }
    let Some(old) = item.as_str() else {
        return Ok(());
    };
    if old.ends_with(NAME_SUFFIX) {
        return Ok(());
    }
    let new = toml::Value::String(format!("{old}{NAME_SUFFIX}"));
    let path: Vec<String> = path.iter().map(|p| p.to_string()).collect();
    put(doc, &path, &new)
}

/// Sets the dotted `path` of `doc` to `value`, creating tables on the way.
fn put(doc: &mut DocumentMut, path: &[String], value: &toml::Value) -> Result<()> {
    let item = to_item(value)?;
    let mut table: &mut dyn TableLike = doc.as_table_mut();
    for (i, part) in path.iter().enumerate() {
        if i + 1 == path.len() {
            // Replacing in place keeps the key's comments, which insert would drop.
            match table.get_mut(part) {
                Some(slot) if slot.is_value() => *slot = item,
                _ => {
                    table.insert(part, item);
                }
            }
            return Ok(());
        }
        if !table.get(part).is_some_and(|it| it.is_table_like()) {
            table.insert(part, toml_edit::table());
        }
        table = table
            .get_mut(part)
            .and_then(Item::as_table_like_mut)
            .expect("just made a table");
    }
    Ok(())
}

fn to_item(value: &toml::Value) -> Result<Item> {
    if let toml::Value::Table(t) = value {
        let mut inline = toml_edit::InlineTable::new();
        for (k, v) in t {
            let parsed: toml_edit::Value = v.to_string().parse()?;
            inline.insert(k, parsed);
        }
        return Ok(Item::Value(toml_edit::Value::InlineTable(inline)));
    }
    let parsed: toml_edit::Value = value
        .to_string()
        .parse()
        .map_err(|e| anyhow!("cannot write value {value}: {e}"))?;
    Ok(Item::Value(parsed))
}

/// Rewrites every path value under `table` (whose dotted prefix is `prefix`), in the plain
/// keys, in `[sweep]` lists and in `[[case]]` tables.
fn rebase(table: &mut dyn TableLike, prefix: &str, from: &Path, to: &Path) {
    for (k, item) in table.iter_mut() {
        let key = if prefix.is_empty() {
            k.get().to_string()
        } else {
            format!("{prefix}.{}", k.get())
        };
        match item {
            Item::Table(_) | Item::Value(toml_edit::Value::InlineTable(_)) => {
                // A sweep's keys name the swept keys themselves.
                let inner = if key == "sweep" {
                    String::new()
                } else {
                    key.clone()
                };
                if let Some(t) = item.as_table_like_mut() {
                    rebase(t, &inner, from, to);
                }
            }
            Item::ArrayOfTables(cases) => {
                for case in cases.iter_mut() {
                    rebase(case, "", from, to);
                }
            }
            Item::Value(v) if PATH_KEYS.contains(&key.as_str()) => rebase_value(v, from, to),
            _ => {}
        }
    }
}

fn rebase_value(v: &mut toml_edit::Value, from: &Path, to: &Path) {
    match v {
        toml_edit::Value::String(s) => {
            let new = moved(Path::new(s.value()), from, to);
            *v = toml_edit::Value::from(new.to_string_lossy().as_ref());
        }
        toml_edit::Value::Array(items) => {
            for item in items.iter_mut() {
                rebase_value(item, from, to);
            }
        }
        _ => {}
    }
}

/// `path`, relative to `from`, expressed relative to `to`.
fn moved(path: &Path, from: &Path, to: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    let target = from.join(path);
    let absolute = |p: &Path| {
        std::fs::canonicalize(if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        })
    };
    match (absolute(&target), absolute(to)) {
        (Ok(t), Ok(d)) => pathdiff::diff_paths(&t, &d).unwrap_or(t),
        (Ok(t), Err(_)) => t,
        _ => target,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_the_value_keeps_comments_and_rebases_paths() {
        let root = tempfile::tempdir().unwrap();
        let (src, out) = (root.path().join("src"), root.path().join("out/deeper"));
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("t.csv"), "1\n").unwrap();
        let text = "# calibrate me\nname = \"x\"\n[model]\ntransitions = \"t.csv\"\n\n[[case]]\nname = \"c\"\n\"model.transitions\" = \"t.csv\"\n";
        std::fs::write(src.join("s.toml"), text).unwrap();
        let dest = out.join("s.toml");
        let sets = vec!["sweep={}".to_string()];
        let values = [
            (
                "model.deterministic_share".to_string(),
                toml::Value::Float(0.75),
            ),
            ("model.vocab_size".to_string(), toml::Value::Integer(12)),
        ];
        check_writable(&src.join("s.toml"), &dest).unwrap();
        write_scenario(&src.join("s.toml"), &dest, &sets, &values).unwrap();
        let written = std::fs::read_to_string(&dest).unwrap();
        assert!(written.contains("# calibrate me"));
        assert!(written.contains("deterministic_share = 0.75"), "{written}");
        assert!(written.contains("vocab_size = 12"), "{written}");
        assert!(written.contains("name = \"x-calibrated\""), "{written}");
        // Calibrating a calibrated file does not stack suffixes.
        let again = out.join("again.toml");
        write_scenario(&dest, &again, &[], &values).unwrap();
        let text = std::fs::read_to_string(&again).unwrap();
        assert!(text.contains("name = \"x-calibrated\""), "{text}");
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            2,
            "no probe or temporary file left"
        );
        assert_eq!(
            written.matches("\"../../src/t.csv\"").count(),
            2,
            "{written}"
        );
        assert!(written.contains("sweep = {}"), "{written}");
    }

    #[test]
    fn unwritable_destinations_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let src = root.path().join("s.toml");
        std::fs::write(&src, "name = \"x\"\n").unwrap();
        let e = check_writable(&src, &src).unwrap_err().to_string();
        assert!(e.contains("is the scenario being calibrated"), "{e}");
        let e = check_writable(&src, root.path()).unwrap_err().to_string();
        assert!(e.contains("is a folder"), "{e}");
        let blocker = root.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let e = check_writable(&src, &blocker.join("out.toml")).unwrap_err();
        assert!(format!("{e:#}").contains("cannot create"), "{e:#}");
        // Refused before calibrating, not after: a device, and a FIFO (which would block).
        let e = check_writable(&src, Path::new("/dev/null")).unwrap_err();
        assert!(e.to_string().contains("is a device"), "{e}");
        #[cfg(unix)]
        {
            let fifo = root.path().join("pipe.toml");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            assert!(made.unwrap().success());
            let e = check_writable(&src, &fifo).unwrap_err();
            assert!(e.to_string().contains("FIFO"), "{e}");
        }
    }
}
