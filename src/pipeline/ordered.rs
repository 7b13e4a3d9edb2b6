//! Work over a stream on every core, results handed on in stream order,
//! with a bounded number of items in flight.
//!
//! Batches with a barrier between them (what this replaced) leave a core
//! idle while the main thread reads the next batch, writes the last one,
//! and waits for a batch's slowest chunk. Here one thread reads, workers
//! take items as they come, and the caller's thread puts results back in
//! order and sinks them; a window of tokens keeps memory bounded however
//! far a slow item holds the others up.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, channel, sync_channel};
use std::sync::{Arc, Mutex};

/// Run `work(i, item)` for every item of `items` on `threads` worker
/// threads, and `sink(i, result)` for each in order on this thread. At most
/// `window` items are read and not yet sunk. The first error in stream
/// order (from reading, working or sinking) stops everything and is
/// returned; nothing after it is sunk.
pub fn run<T, R, E>(
    items: impl Iterator<Item = Result<T, E>> + Send,
    threads: usize,
    window: usize,
    work: impl Fn(usize, T) -> Result<R, E> + Sync,
    mut sink: impl FnMut(usize, R) -> Result<(), E>,
) -> Result<(), E>
where
    T: Send,
    R: Send,
    E: Send,
{
    // One core: threads and channels would only add hand-offs.
    if threads <= 1 {
        for (i, item) in items.enumerate() {
            sink(i, work(i, item?)?)?;
        }
        return Ok(());
    }
    let window = window.max(1);
    let (work_tx, work_rx) = sync_channel::<(usize, T)>(window);
    let work_rx = Arc::new(Mutex::new(work_rx));
    let (done_tx, done_rx) = channel::<(usize, Result<R, E>)>();
    let (token_tx, token_rx) = sync_channel::<()>(window);
    for _ in 0..window {
        let _ = token_tx.send(());
    }
    std::thread::scope(|scope| {
        let reader_done = done_tx.clone();
        scope.spawn(move || {
            for (i, item) in items.enumerate() {
                if token_rx.recv().is_err() {
                    return; // the sink stopped
                }
                match item {
                    Ok(t) => {
                        if work_tx.send((i, t)).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = reader_done.send((i, Err(e)));
                        return;
                    }
                }
            }
        });
        for _ in 0..threads.max(1) {
            let (rx, tx, work) = (Arc::clone(&work_rx), done_tx.clone(), &work);
            scope.spawn(move || {
                loop {
                    // Hold the lock only to take an item, not while working on it.
                    let next = rx.lock().map_err(|_| ()).and_then(|r| r.recv().map_err(|_| ()));
                    let Ok((i, t)) = next else { return };
                    if tx.send((i, work(i, t))).is_err() {
                        return;
                    }
                }
            });
        }
        // Only the workers hold these now: once they are gone, the reader's
        // sends fail and it stops too.
        drop(work_rx);
        drop(done_tx);
        collect(done_rx, token_tx, &mut sink)
    })
}

/// Put results back in order and sink them, returning a token for each.
/// Returning drops the channels, which stops the reader and the workers.
fn collect<R, E>(
    done: Receiver<(usize, Result<R, E>)>,
    tokens: std::sync::mpsc::SyncSender<()>,
    sink: &mut impl FnMut(usize, R) -> Result<(), E>,
) -> Result<(), E> {
    let mut pending: BTreeMap<usize, Result<R, E>> = BTreeMap::new();
    let mut next = 0;
    for (i, result) in done.iter() {
        pending.insert(i, result);
        while let Some(result) = pending.remove(&next) {
            sink(next, result?)?;
            let _ = tokens.send(());
            next += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_order_whatever_order_work_finishes_in() {
        let items = (0..200u64).map(Ok::<u64, String>);
        let mut seen = Vec::new();
        run(
            items,
            4,
            8,
            |_, n| {
                // Early items take longest, so later ones finish first.
                std::thread::sleep(std::time::Duration::from_micros((200 - n) * 20));
                Ok(n * 2)
            },
            |i, r| {
                seen.push((i, r));
                Ok(())
            },
        )
        .expect("no errors");
        assert_eq!(seen, (0..200).map(|n| (n as usize, n * 2)).collect::<Vec<_>>());
    }

    #[test]
    fn the_first_error_in_stream_order_wins_and_nothing_after_it_is_sunk() {
        let items = (0..100u64).map(|n| if n == 70 { Err(format!("read {n}")) } else { Ok(n) });
        let mut sunk = Vec::new();
        let e = run(
            items,
            2,
            16,
            |_, n| if n == 30 || n == 50 { Err(format!("work {n}")) } else { Ok(n) },
            |_, n| {
                sunk.push(n);
                Ok(())
            },
        )
        .expect_err("fails");
        assert_eq!(e, "work 30");
        assert_eq!(sunk, (0..30).collect::<Vec<_>>());
    }

    #[test]
    fn one_thread_works_in_order_on_this_thread() {
        let mut seen = Vec::new();
        let items = (0..10u64).map(|n| if n == 7 { Err("read 7".to_string()) } else { Ok(n) });
        let e = run(
            items,
            1,
            4,
            |_, n| Ok(n + 1),
            |i, r| {
                seen.push((i, r));
                Ok(())
            },
        )
        .expect_err("fails");
        assert_eq!(e, "read 7");
        assert_eq!(seen, (0..7).map(|n| (n as usize, n + 1)).collect::<Vec<_>>());
    }

    #[test]
    fn a_failing_sink_stops_the_run() {
        let e = run(
            (0..10_000u64).map(Ok::<u64, String>),
            2,
            4,
            |_, n| Ok(n),
            |i, _| {
                if i == 3 { Err("sink".to_string()) } else { Ok(()) }
            },
        )
        .expect_err("fails");
        assert_eq!(e, "sink");
    }
}
