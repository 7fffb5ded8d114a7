//! Work items on a few threads at once: the one queue `batch`, `learn`, `eval` and the gate study
//! share. Each thread takes the next item until none is left, so a long song never holds up the
//! short ones behind it; the results come back in the items' order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// The threads to use when the user did not say: one per core.
pub fn available() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `work(i, &items[i])` for every item, on `threads` threads (at least one, at most one per
/// item), each result in its item's place. A panic in `work` reaches the caller once every
/// thread has stopped; callers that must survive one catch it inside `work`.
pub fn map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    work: impl Fn(usize, &T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, items.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = work(i, item);
                    *slots[i].lock().unwrap_or_else(PoisonError::into_inner) = Some(r);
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|s| {
            s.into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                .expect("every item ran")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_runs_once_and_results_keep_the_items_order() {
        let items: Vec<u64> = (0..50).collect();
        let ran = AtomicUsize::new(0);
        let out = map(&items, 4, |i, x| {
            ran.fetch_add(1, Ordering::Relaxed);
            // uneven work, so threads finish out of order
            std::thread::sleep(std::time::Duration::from_micros((x % 7) * 300));
            (i as u64, x * x)
        });
        assert_eq!(ran.load(Ordering::Relaxed), 50);
        assert!(
            out.iter()
                .enumerate()
                .all(|(i, &(j, sq))| i as u64 == j && sq == j * j)
        );
        assert!(map(&[] as &[u8], 8, |_, _| 0).is_empty());
        assert_eq!(map(&[1, 2, 3], 0, |_, x| x + 1), vec![2, 3, 4]);
    }
}
