//! Ctrl-C, SIGTERM or SIGHUP (what `timeout`, Slurm preemption and a closed terminal send):
//! stop at once with exit status 130 and say so. Every result file is written
//! under a temporary name and renamed when complete, so the files already in the results
//! folder are whole; the handler only removes this process's temporary files (those in
//! [`crate::partial`]'s registry, and any left in the watched folder), so an interrupted
//! write leaves nothing behind.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The exit status of a stopped run (128 + 2, as shells report SIGINT), whichever signal.
pub const INTERRUPTED: u8 = 130;

/// The folder whose temporary files the handler removes.
static WATCHED: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Installs the handler for subcommand `command` (named in the message); a second call,
/// or a platform without signals, is a no-op.
pub fn install(command: &'static str) {
    let _ = ctrlc::set_handler(move || {
        crate::partial::remove_all();
        let dir = WATCHED.lock().ok().and_then(|d| d.clone());
        if let Some(dir) = &dir {
            remove_partial(dir);
            remove_partial(&dir.join("plots"));
        }
        let resume = if command == "run" {
            " (`run` continues with --resume)"
        } else {
            ""
        };
        let kept = dir.map_or(String::new(), |d| {
            format!(
                "; the files already in {} are complete{resume}",
                d.display()
            )
        });
        eprintln!("\ninterrupted: stopped before `{command}` finished{kept}");
        std::process::exit(i32::from(INTERRUPTED));
    });
}

/// Tells the handler which results folder is being written.
pub fn watch(dir: &Path) {
    if let Ok(mut d) = WATCHED.lock() {
        *d = Some(dir.to_path_buf());
    }
}

/// Removes `report::write_atomic`'s and `plot::render_all`'s temporary files of this process.
fn remove_partial(dir: &Path) {
    let pid = format!(".tmp-{}", std::process::id());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && (name.ends_with(&pid) || name.contains(".partial.")) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
