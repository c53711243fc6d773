//! SIGINT / SIGTERM: the first one sets a flag that the stages poll between
//! files and every few thousand rows (readers included), so they stop
//! promptly and exit 130 / 143. Every temporary output registers here while
//! it is being written; [`remove_temporaries`] deletes those still open, so
//! the process can exit without waiting for a writer in the middle of a
//! long zip compression. A second signal ends the process at once.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use signal_hook::consts::{SIGINT, SIGTERM};

use crate::error::{Error, Exit, Result};

static FLAG: OnceLock<Arc<AtomicUsize>> = OnceLock::new();

fn flag() -> &'static Arc<AtomicUsize> {
    FLAG.get_or_init(|| Arc::new(AtomicUsize::new(0)))
}

/// Install the handlers (idempotent).
pub fn install() -> std::io::Result<()> {
    let f = flag();
    let seen = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        // Registered first, so it sees the state before this signal: a
        // second signal exits at once.
        signal_hook::flag::register_conditional_shutdown(
            sig,
            Exit::Interrupted(sig).code(),
            Arc::clone(&seen),
        )?;
        signal_hook::flag::register(sig, Arc::clone(&seen))?;
        signal_hook::flag::register_usize(sig, Arc::clone(f), sig as usize)?;
    }
    Ok(())
}

/// `Err(Interrupted)` once a signal arrived.
pub fn check() -> Result<()> {
    match flag().load(Ordering::Relaxed) {
        0 => Ok(()),
        s if s == SIGTERM as usize => Err(Error::Interrupted {
            name: "SIGTERM",
            signal: SIGTERM,
        }),
        _ => Err(Error::Interrupted {
            name: "SIGINT",
            signal: SIGINT,
        }),
    }
}

/// Whether a signal arrived (cheap; for hot loops).
pub fn requested() -> bool {
    flag().load(Ordering::Relaxed) != 0
}

fn temporaries() -> &'static Mutex<HashSet<PathBuf>> {
    static TEMPS: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    TEMPS.get_or_init(|| Mutex::new(HashSet::new()))
}

/// A temporary output now being written.
pub fn register_temporary(p: &Path) {
    if let Ok(mut t) = temporaries().lock() {
        t.insert(p.to_path_buf());
    }
}

/// A temporary output renamed into place or removed.
pub fn unregister_temporary(p: &Path) {
    if let Ok(mut t) = temporaries().lock() {
        t.remove(p);
    }
}

/// Delete every temporary output still registered (before exiting on an
/// error or a signal while other threads may still be writing).
pub fn remove_temporaries() {
    if let Ok(mut t) = temporaries().lock() {
        for p in t.drain() {
            let _ = std::fs::remove_file(&p);
        }
    }
}
