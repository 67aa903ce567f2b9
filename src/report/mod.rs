//! Result files and the terminal table.
//!
//! Each export format lives in its own file and turns the same inputs (the runs of every
//! configuration and their [`Summary`]) into bytes or text. Nothing here touches the
//! filesystem except [`write_atomic`], so every format can be tested in memory.

mod columns;
pub mod html;
pub mod rounds_csv;
pub mod runs_csv;
pub mod summary;
pub mod summary_csv;
pub mod summary_json;
pub mod table;
pub mod text_check;
pub mod timing;
pub mod trace_csv;

pub use html::report_html;
pub use rounds_csv::rounds_csv;
pub use runs_csv::{float_cell, runs_csv, write_runs_csv};
pub use summary::{set_oracle_gaps, summarize, Summary};
pub use summary_csv::summary_csv;
pub use summary_json::summary_json;
pub use table::{markdown, table};
pub use text_check::repetitive_text;
pub use trace_csv::trace_csv;

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::input::file_kind;

/// Writes `bytes` to `path` so that readers see either the old file or the complete new
/// one, never a prefix: the bytes go to `.{name}.tmp-{pid}` in the same directory, are
/// synced, and the temporary file is renamed over `path`. The directory must exist.
///
/// A symlink is written through: the file it points to gets the new bytes and the link
/// stays (see [`atomic_target`]). Anything but a regular file (a folder, a FIFO, a device)
/// is refused before a temporary file is made.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// Like [`write_atomic`] but without syncing the file to disk before the rename: still never
/// a prefix for a reader or after a killed process, but a power loss can leave the file
/// empty. For small markers rewritten by every run (the results folder's manifest), where
/// a sync would be most of the command's start-up time.
pub fn write_atomic_unsynced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_inner(path, false, |file| file.write_all(bytes))
}

/// Like [`write_atomic`], but `fill` streams the content into the temporary file, so a large
/// file never has to sit in memory whole.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut io::BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    write_atomic_inner(path, true, fill)
}

/// The file a write to `path` replaces: `path` itself, or the end of its chain of
/// symlinks, so that a link keeps pointing where the user put it (renaming over the link
/// would silently turn it into a detached copy). Refuses a folder, a FIFO (whose reader
/// would never see the file), a device or a socket, naming the path and what it is.
pub fn atomic_target(path: &Path) -> io::Result<PathBuf> {
    let mut at = path.to_path_buf();
    // The kernel's own limit on a chain of links; a loop ends here too.
    for _ in 0..40 {
        let meta = match std::fs::symlink_metadata(&at) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(at),
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", at.display()))),
            Ok(meta) => meta,
        };
        if meta.file_type().is_symlink() {
            let link = std::fs::read_link(&at)?;
            // A relative link is relative to the link's folder; an absolute one replaces it.
            at = at.parent().unwrap_or(Path::new("")).join(link);
            continue;
        }
        if meta.is_file() {
            return Ok(at);
        }
        let shown = if at == path {
            path.display().to_string()
        } else {
            format!("{} (a link to {})", path.display(), at.display())
        };
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{shown} is {}, not a regular file; give the path of a file to write",
                file_kind(&meta.file_type())
            ),
        ));
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{}: too many levels of symbolic links (a loop?)",
            path.display()
        ),
    ))
}

fn write_atomic_inner(
    path: &Path,
    sync: bool,
    fill: impl FnOnce(&mut io::BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    let path = &atomic_target(path)?;
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} names no file", path.display()),
        )
    })?;
    // Same directory, because rename is only atomic within one filesystem.
    let dir = path.parent().unwrap_or(Path::new(""));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let _tracked = crate::partial::track(&tmp);
    let result = (|| {
        let mut file = io::BufWriter::new(File::create(&tmp)?);
        fill(&mut file)?;
        let file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
        // Without the sync a crash after the rename could leave an empty file in place.
        if sync {
            file.sync_all()?;
        }
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
pub(crate) mod test_data {
    //! Two small hand-built configurations shared by the format tests.

    use crate::record::{ConfigLabel, ConfigRuns, DecodeRecord, Quality};

    /// Config 0 has no case and two Markov sequences; config 1 is case "long" with one
    /// phenomenological sequence and no Markov quality.
    pub fn two_configs() -> Vec<ConfigRuns> {
        let markov = |rounds, tokens, content, evals, btok, wins, inv, ll, greedy| DecodeRecord {
            rounds,
            tokens,
            content_tokens: content,
            branch_evals: evals,
            branch_tokens: btok,
            lookahead_wins: wins,
            // 3 distinct pairs of 5 in the first sequence, all 7 distinct in the second.
            distinct2: Some(if rounds == 4 { 0.6 } else { 1.0 }),
            quality: Quality {
                invalid_transitions: Some(inv),
                log_likelihood: Some(ll),
                matches_greedy: Some(greedy),
                ..Quality::default()
            },
            latency: None,
        };
        vec![
            ConfigRuns {
                label: ConfigLabel {
                    index: 0,
                    case: None,
                    swept: vec![
                        ("search.branches".into(), "2".into()),
                        ("decoder.fill_threshold".into(), "0.8".into()),
                    ],
                    branches: 2,
                    system: None,
                },
                worlds: 1,
                records: vec![
                    markov(4, 8, 6, 10, 40, 1, 0, -4.286849186324321, true),
                    markov(5, 8, 8, 12, 48, 2, 1, -7.5, false),
                ],
                bins: Default::default(),
            },
            ConfigRuns {
                label: ConfigLabel {
                    index: 1,
                    case: Some("long".into()),
                    swept: vec![
                        ("search.branches".into(), "4".into()),
                        ("decoder.fill_threshold".into(), "1.0".into()),
                    ],
                    branches: 4,
                    system: None,
                },
                worlds: 1,
                records: vec![DecodeRecord {
                    rounds: 3,
                    tokens: 12,
                    content_tokens: 12,
                    branch_evals: 9,
                    branch_tokens: 36,
                    lookahead_wins: 3,
                    distinct2: None,
                    quality: Quality {
                        plan_consistent: Some(true),
                        token_errors: Some(2),
                        ..Quality::default()
                    },
                    latency: None,
                }],
                bins: Default::default(),
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_content_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.csv");
        std::fs::write(&path, b"old content that is longer").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["summary.csv".to_string()]);
    }

    #[test]
    fn atomic_write_creates_a_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.csv");
        write_atomic(&path, b"a,b\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a,b\n");
    }

    #[test]
    fn atomic_write_refuses_a_folder_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("summary.csv");
        std::fs::create_dir(&target).unwrap();
        let e = write_atomic(&target, b"x").unwrap_err().to_string();
        assert!(
            e.contains(&target.display().to_string()) && e.contains("a folder"),
            "{e}"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(std::fs::read_dir(&target).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_refuses_a_fifo_and_a_device_without_blocking() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        let e = write_atomic(&fifo, b"x").unwrap_err().to_string();
        assert!(e.contains("pipe") && e.contains("FIFO"), "{e}");
        assert!(std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo());
        let e = write_atomic(Path::new("/dev/null"), b"x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("/dev/null is a device"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_goes_through_a_symlink_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.md");
        std::fs::write(&real, b"old").unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        // Relative, from another folder, and two links deep.
        std::os::unix::fs::symlink("../real.md", sub.join("one")).unwrap();
        std::os::unix::fs::symlink("one", sub.join("two")).unwrap();
        write_atomic(&sub.join("two"), b"new").unwrap();
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        for link in ["one", "two"] {
            let meta = std::fs::symlink_metadata(sub.join(link)).unwrap();
            assert!(meta.file_type().is_symlink(), "{link} replaced");
        }
        // A dangling link creates the file it names.
        std::os::unix::fs::symlink("made.md", dir.path().join("dangling")).unwrap();
        write_atomic(&dir.path().join("dangling"), b"m").unwrap();
        assert_eq!(std::fs::read(dir.path().join("made.md")).unwrap(), b"m");
        // A loop is an error, not a hang.
        std::os::unix::fs::symlink("loop", dir.path().join("loop")).unwrap();
        let e = write_atomic(&dir.path().join("loop"), b"x").unwrap_err();
        assert!(e.to_string().contains("symbolic links"), "{e}");
    }

    #[test]
    fn atomic_write_into_missing_dir_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("runs.csv");
        assert!(write_atomic(&path, b"x").is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
