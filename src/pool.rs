//! A bounded, ordered parallel map: Python's `pool.imap` on rayon.
//!
//! Items are handed to a rayon pool of `jobs` threads; results come back in
//! input order, whatever each item costs. At most `window` items are in
//! flight or waiting in the reorder buffer, so memory stays bounded however
//! many items there are, and a slow item never lets the others run ahead
//! unboundedly. A panic in `f` becomes that item's `Err`, never a hang.
//! Dropping the iterator early cancels the items not yet started.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;

/// Why an item produced no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolError {
    /// `f` panicked; the panic message.
    Panicked(String),
}

type Msg<R> = (usize, Result<R, PoolError>);

/// Build a rayon pool with `jobs` threads (at least one).
pub fn thread_pool(jobs: usize) -> crate::error::Result<Arc<rayon::ThreadPool>> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .thread_name(|i| format!("sheetsift-worker-{i}"))
        .build()
        .map(Arc::new)
        .map_err(|e| crate::error::Error::Thread {
            what: "worker threads",
            source: std::io::Error::other(e),
        })
}

/// The bound of a channel between stages: two items a worker (as fd
/// sizes its result channel), so every worker can hand one item over and
/// have the next ready while the receiver catches up, and memory stays a
/// small multiple of the thread count.
pub fn channel_bound(jobs: usize) -> usize {
    2 * jobs.max(1)
}

/// The ordered iterator returned by [`ordered_map`].
pub struct OrderedMap<I, R, F> {
    pool: Arc<rayon::ThreadPool>,
    items: std::vec::IntoIter<I>,
    f: Arc<F>,
    tx: Sender<Msg<R>>,
    rx: Receiver<Msg<R>>,
    pending: BTreeMap<usize, Result<R, PoolError>>,
    submitted: usize,
    next_out: usize,
    total: usize,
    window: usize,
    cancel: Arc<AtomicBool>,
}

/// Map `f` over `items` on `pool`, yielding results in input order with at
/// most `window` (>= 1) items in flight or buffered.
pub fn ordered_map<I, R, F>(
    pool: Arc<rayon::ThreadPool>,
    items: Vec<I>,
    window: usize,
    f: F,
) -> OrderedMap<I, R, F>
where
    I: Send + 'static,
    R: Send + 'static,
    F: Fn(I) -> R + Send + Sync + 'static,
{
    let (tx, rx) = channel();
    let total = items.len();
    OrderedMap {
        pool,
        items: items.into_iter(),
        f: Arc::new(f),
        tx,
        rx,
        pending: BTreeMap::new(),
        submitted: 0,
        next_out: 0,
        total,
        window: window.max(1),
        cancel: Arc::new(AtomicBool::new(false)),
    }
}

/// The text of a caught panic's payload.
pub fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

impl<I, R, F> OrderedMap<I, R, F>
where
    I: Send + 'static,
    R: Send + 'static,
    F: Fn(I) -> R + Send + Sync + 'static,
{
    fn fill(&mut self) {
        while self.submitted - self.next_out < self.window {
            let Some(item) = self.items.next() else { break };
            let index = self.submitted;
            self.submitted += 1;
            let (f, tx, cancel) = (
                Arc::clone(&self.f),
                self.tx.clone(),
                Arc::clone(&self.cancel),
            );
            self.pool.spawn(move || {
                if cancel.load(Ordering::Relaxed) {
                    return;
                }
                let result = catch_unwind(AssertUnwindSafe(|| f(item)))
                    .map_err(|p| PoolError::Panicked(panic_message(p)));
                // The receiver is gone only when the consumer stopped early.
                let _ = tx.send((index, result));
            });
        }
    }
}

impl<I, R, F> Iterator for OrderedMap<I, R, F>
where
    I: Send + 'static,
    R: Send + 'static,
    F: Fn(I) -> R + Send + Sync + 'static,
{
    type Item = Result<R, PoolError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next_out == self.total {
            return None;
        }
        self.fill();
        loop {
            if let Some(r) = self.pending.remove(&self.next_out) {
                self.next_out += 1;
                self.fill();
                return Some(r);
            }
            // Every spawned task sends exactly once (panics are caught), and
            // we hold a sender ourselves, so this cannot disconnect.
            let (i, r) = self.rx.recv().expect("the pool keeps a sender");
            self.pending.insert(i, r);
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.total - self.next_out;
        (left, Some(left))
    }
}

impl<I, R, F> Drop for OrderedMap<I, R, F> {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    /// A tiny deterministic PRNG so the delays are random but repeatable.
    fn delays(n: usize, seed: u64) -> Vec<u64> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x % 7
            })
            .collect()
    }

    #[test]
    fn order_is_kept_under_random_delays() {
        let pool = thread_pool(4).unwrap();
        let items: Vec<(usize, u64)> = delays(200, 42).into_iter().enumerate().collect();
        let out: Vec<usize> = ordered_map(pool, items, 8, |(i, d)| {
            std::thread::sleep(Duration::from_millis(d));
            i
        })
        .map(Result::unwrap)
        .collect();
        assert_eq!(out, (0..200).collect::<Vec<_>>());
    }

    #[test]
    fn window_is_never_exceeded() {
        let pool = thread_pool(4).unwrap();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (fl, pk) = (Arc::clone(&in_flight), Arc::clone(&peak));
        let window = 3;
        let it = ordered_map(pool, delays(100, 7), window, move |d| {
            let now = fl.fetch_add(1, Ordering::SeqCst) + 1;
            pk.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(d));
            fl.fetch_sub(1, Ordering::SeqCst);
            d
        });
        let mut seen = 0;
        for r in it {
            r.unwrap();
            seen += 1;
            // Consume slowly so finished results pile up in the buffer.
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(seen, 100);
        assert!(
            peak.load(Ordering::SeqCst) <= window,
            "peak {}",
            peak.load(Ordering::SeqCst)
        );
    }

    #[test]
    fn buffered_results_count_against_the_window() {
        // Item 0 is slow: the others finish but must wait in the buffer, and
        // no more than `window` items may be started meanwhile.
        let pool = thread_pool(4).unwrap();
        let started = Arc::new(AtomicUsize::new(0));
        let s = Arc::clone(&started);
        let mut it = ordered_map(pool, (0..50).collect::<Vec<usize>>(), 4, move |i| {
            s.fetch_add(1, Ordering::SeqCst);
            if i == 0 {
                std::thread::sleep(Duration::from_millis(200));
            }
            i
        });
        assert_eq!(it.next(), Some(Ok(0)));
        assert!(
            started.load(Ordering::SeqCst) <= 5,
            "started {}",
            started.load(Ordering::SeqCst)
        );
    }

    #[test]
    fn a_panic_becomes_that_items_error() {
        let pool = thread_pool(2).unwrap();
        let out: Vec<_> = ordered_map(pool, (0..10).collect::<Vec<i32>>(), 4, |i| {
            if i == 3 {
                panic!("boom at {i}");
            }
            i
        })
        .collect();
        assert_eq!(out.len(), 10);
        assert_eq!(out[3], Err(PoolError::Panicked("boom at 3".into())));
        assert_eq!(out[4], Ok(4));
    }

    #[test]
    fn early_drop_cancels_cleanly() {
        let pool = thread_pool(2).unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let r = Arc::clone(&ran);
        let mut it = ordered_map(
            Arc::clone(&pool),
            (0..1000).collect::<Vec<usize>>(),
            4,
            move |i| {
                r.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(2));
                i
            },
        );
        assert_eq!(it.next(), Some(Ok(0)));
        drop(it);
        std::thread::sleep(Duration::from_millis(50));
        // The pool is still usable and the dropped map stopped starting work.
        assert!(
            ran.load(Ordering::SeqCst) <= 6,
            "ran {}",
            ran.load(Ordering::SeqCst)
        );
        let again: Vec<_> = ordered_map(pool, vec![1, 2, 3], 2, |x| x * 2)
            .map(Result::unwrap)
            .collect();
        assert_eq!(again, [2, 4, 6]);
    }
}
