//! SIGINT / SIGTERM: the first one sets a flag that the stages poll between
//! files and every few thousand rows, so they stop promptly, drop their
//! temporary files and exit 130 / 143. A second signal ends the process at
//! once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use signal_hook::consts::{SIGINT, SIGTERM};

use crate::error::{exit, Error, Result};

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
        signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, Arc::clone(&seen))?;
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
            code: exit::SIGTERM,
        }),
        _ => Err(Error::Interrupted {
            name: "SIGINT",
            code: exit::SIGINT,
        }),
    }
}
