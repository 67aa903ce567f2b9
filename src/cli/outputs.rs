//! Checks on where a run writes, done before any decoding: the results folder must be
//! writable and must not hold another scenario's results (unless `--force`).

use std::path::{Component, Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

use crate::report::write_atomic_unsynced;
use crate::scenario::Resolved;

/// The file in a results folder that records what wrote it.
pub const MANIFEST: &str = "manifest.json";

/// The scenario name a results folder belongs to: from its manifest, else from the
/// `summary.json` of a run older than manifests.
fn owner(dir: &Path) -> Result<Option<(String, String)>> {
    for (file, name_at, file_at) in [
        (MANIFEST, "/scenario", "/file"),
        ("summary.json", "/scenario/keys/name", "/scenario/file"),
    ] {
        let path = dir.join(file);
        // Unreadable markers are ignored here; writing the manifest reports a bad one.
        let Ok(bytes) = crate::input::read(&path, crate::input::SMALL) else {
            continue;
        };
        let v: Value = serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{} is not valid JSON; overwrite the folder with --force",
                path.display()
            )
        })?;
        if let Some(name) = v.pointer(name_at).and_then(Value::as_str) {
            let file = v.pointer(file_at).and_then(Value::as_str).unwrap_or("?");
            return Ok(Some((name.to_string(), file.to_string())));
        }
    }
    Ok(None)
}

/// Creates `dir` if needed, refuses it when it holds the results of a scenario named
/// other than `name` (unless `force`), and writes the manifest, which also proves the
/// folder writable.
pub fn claim(dir: &Path, name: &str, scenario: &Path, force: bool) -> Result<()> {
    crate::input::check_folder(dir)
        .map_err(|e| anyhow!("results folder: {e}; give a folder (it is created if missing)"))?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create results folder {}", dir.display()))?;
    // With --force an unreadable manifest is overwritten like any other.
    let owner = match owner(dir) {
        Err(_) if force => None,
        found => found?,
    };
    if let Some((other, other_file)) = owner {
        if other != name && !force {
            bail!(
                "{} holds the results of scenario `{other}` ({other_file}), not of `{name}` \
                 ({}); write elsewhere with --out DIR, or overwrite them with --force",
                dir.display(),
                scenario.display()
            );
        }
    }
    let manifest = json!({
        "written_by": format!("lopa-sim {}", env!("LOPA_SIM_VERSION")),
        "scenario": name,
        "file": scenario.display().to_string(),
    });
    let mut bytes = serde_json::to_vec_pretty(&manifest)?;
    bytes.push(b'\n');
    let path = dir.join(MANIFEST);
    // Unsynced: a sync here was 30 ms of a 0.3 s run, and a manifest lost to a power cut
    // only makes the next run ask for --force.
    write_atomic_unsynced(&path, &bytes).with_context(|| {
        format!(
            "cannot write into results folder {} ({})",
            dir.display(),
            path.display()
        )
    })
}

/// `path` absolute, without symlinks or `..` as far as it exists: the canonical form of its
/// longest existing ancestor with the rest appended. Two spellings of one file then compare
/// equal, even before the file or its folder is created.
pub fn resolved(path: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let parts: Vec<Component> = abs.components().collect();
    for n in (1..=parts.len()).rev() {
        let Ok(mut base) = parts[..n].iter().collect::<PathBuf>().canonicalize() else {
            continue;
        };
        for part in &parts[n..] {
            match part {
                Component::ParentDir => {
                    base.pop();
                }
                Component::CurDir => {}
                other => base.push(other),
            }
        }
        return base;
    }
    abs
}

/// The files a run or a trace reads: the scenario and every model CSV it names.
pub fn inputs<'a>(scenario: &'a Path, resolved: &'a [Resolved]) -> Vec<&'a Path> {
    let mut files = vec![scenario];
    for r in resolved {
        files.extend(r.config.model.input_files());
    }
    files
}

/// Checks, before any decoding, that the file of `flag PATH` (`--json`,
/// `--export-markdown`) can be written and would clobber nothing: it must not be one of
/// `inputs`, nor lie in (or be) the results folder `results` that the same command writes,
/// where it could overwrite a result file or be deleted with the folder's contents.
pub fn check_export(
    flag: &str,
    path: &Path,
    inputs: &[&Path],
    results: Option<&Path>,
) -> Result<()> {
    let dest = crate::report::atomic_target(path).map_err(|e| anyhow!("{flag} {e}"))?;
    let target = resolved(&dest);
    if let Some(input) = inputs.iter().find(|i| resolved(i) == target) {
        bail!(
            "{flag} {}: would overwrite {}, an input of this command; give a new file name",
            path.display(),
            input.display()
        );
    }
    if let Some(dir) = results.filter(|d| target.starts_with(resolved(d))) {
        bail!(
            "{flag} {}: lies in the results folder {} that this run writes (its files could \
             overwrite it); write it outside that folder",
            path.display(),
            dir.display()
        );
    }
    check_writable_file(&dest).with_context(|| flag.to_string())
}

/// Fails unless a file can be created beside `path` (in its folder, which must exist).
pub fn check_writable_file(path: &Path) -> Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("{} names no file", path.display()))?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let probe = parent.join(format!(
        ".{}.probe-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&probe, b"").with_context(|| {
        format!(
            "cannot write {}: its folder is not writable",
            path.display()
        )
    })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_of_another_scenario_is_refused_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("r");
        claim(&out, "alpha", Path::new("a.toml"), false).unwrap();
        claim(&out, "alpha", Path::new("a.toml"), false).unwrap();
        let e = claim(&out, "beta", Path::new("b.toml"), false).unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("`alpha`") && msg.contains("`beta`") && msg.contains("--force"));
        claim(&out, "beta", Path::new("b.toml"), true).unwrap();
        let m: Value = serde_json::from_slice(&std::fs::read(out.join(MANIFEST)).unwrap()).unwrap();
        assert_eq!(m["scenario"], "beta");
    }

    #[test]
    fn old_results_are_recognised_by_their_summary() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("summary.json"),
            r#"{"scenario": {"file": "q.toml", "keys": {"name": "quick"}}}"#,
        )
        .unwrap();
        assert!(claim(dir.path(), "other", Path::new("o.toml"), false).is_err());
        assert!(claim(dir.path(), "quick", Path::new("q.toml"), false).is_ok());
    }

    #[test]
    fn unwritable_places_fail() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        assert!(claim(&file.join("sub"), "a", Path::new("a.toml"), false).is_err());
        assert!(check_writable_file(&dir.path().join("missing/t.md")).is_err());
        assert!(check_writable_file(&dir.path().join("t.md")).is_ok());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
