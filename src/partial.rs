//! Files being written under a temporary name, wherever they are: a write through a
//! symlink puts its temporary file beside the link's target, outside the results folder,
//! so the signal handler removes what this registry holds instead of guessing folders.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

static IN_FLIGHT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A temporary file in flight; dropping it (after the rename, or after the file was
/// removed on failure) takes it off the registry.
#[must_use = "the file leaves the registry when the guard drops"]
pub struct Tracked(PathBuf);

/// Registers `tmp`, a file about to be created and later renamed or removed.
pub fn track(tmp: &Path) -> Tracked {
    if let Ok(mut v) = IN_FLIGHT.lock() {
        v.push(tmp.to_path_buf());
    }
    Tracked(tmp.to_path_buf())
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Ok(mut v) = IN_FLIGHT.lock() {
            if let Some(i) = v.iter().rposition(|p| *p == self.0) {
                v.swap_remove(i);
            }
        }
    }
}

/// Removes every temporary file in flight: for a process about to exit on a signal.
pub fn remove_all() {
    if let Ok(v) = IN_FLIGHT.lock() {
        remove(&v);
    }
}

fn remove(files: &[PathBuf]) {
    for p in files {
        let _ = std::fs::remove_file(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracked_files_are_removed_and_finished_ones_forgotten() {
        // Other tests write files meanwhile, so this one removes only its own.
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join(".a.tmp"), dir.path().join(".b.tmp"));
        std::fs::write(&a, b"x").unwrap();
        std::fs::write(&b, b"x").unwrap();
        let kept = track(&a);
        drop(track(&b));
        let ours: Vec<PathBuf> = IN_FLIGHT
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p.starts_with(dir.path()))
            .cloned()
            .collect();
        assert_eq!(ours, vec![a.clone()]);
        remove(&ours);
        assert!(!a.exists() && b.exists());
        drop(kept);
        assert!(!IN_FLIGHT.lock().unwrap().contains(&a));
    }
}
