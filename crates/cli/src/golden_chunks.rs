//! Golden records made in chunks by two threads: a maker thread from the start of the store stage, and the
//! store's writing thread whenever it would otherwise wait for one. The store writes pairs, memberships and the
//! change feed first and the golden records last, in entity order; by then the maker is often still busy, and a
//! writer that only waited left its core idle (at 1M records, the last half second or more of a resolve).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Instant;

/// A chunk of made rows, or the error that stopped its making.
pub type Chunk<T, E> = Vec<Result<T, E>>;

/// A made chunk with its number, as the maker thread sends it.
type Numbered<T, E> = (usize, Chunk<T, E>);

/// The two ends of the channel made chunks travel through.
type Channel<T, E> = (SyncSender<Numbered<T, E>>, Receiver<Numbered<T, E>>);

/// The shared work: `count` chunks, each claimed once by whichever thread gets to it first.
pub struct Chunks<F> {
    count: usize,
    claimed: AtomicUsize,
    make: F,
}

impl<T, E, F: Fn(usize) -> Chunk<T, E>> Chunks<F> {
    /// `count` chunks; `make(k)` makes chunk `k`.
    pub fn new(count: usize, make: F) -> Self {
        Chunks { count, claimed: AtomicUsize::new(0), make }
    }

    /// The next unclaimed chunk's number, claimed for the caller; `None` when all are claimed.
    fn claim(&self) -> Option<usize> {
        let k = self.claimed.fetch_add(1, Ordering::Relaxed);
        (k < self.count).then_some(k)
    }

    /// The maker thread's loop: claims and makes chunks until none are left (or the writer has gone), sending
    /// each. Returns the seconds spent making.
    pub fn make_and_send(&self, to: SyncSender<Numbered<T, E>>) -> f64 {
        let mut busy = 0.0;
        while let Some(k) = self.claim() {
            let started = Instant::now();
            let rows = (self.make)(k);
            busy += started.elapsed().as_secs_f64();
            if to.send((k, rows)).is_err() {
                break;
            }
        }
        busy
    }

    /// A channel the maker thread sends into and the writer's [`InOrder`] reads from; it holds every chunk, so
    /// sending never waits.
    pub fn channel(&self) -> Channel<T, E> {
        sync_channel(self.count.max(1))
    }
}

/// The rows of all chunks in chunk order, for the writing thread: chunks the maker sent, and chunks this thread
/// makes itself when the next one in order is not there yet and some are still unclaimed.
pub struct InOrder<'c, T, E, F> {
    chunks: &'c Chunks<F>,
    made: Receiver<Numbered<T, E>>,
    waiting: BTreeMap<usize, Chunk<T, E>>,
    next: usize,
    current: std::vec::IntoIter<Result<T, E>>,
    /// Seconds this thread spent making chunks.
    pub busy: f64,
}

impl<'c, T, E, F: Fn(usize) -> Chunk<T, E>> InOrder<'c, T, E, F> {
    /// Reads the chunks `made` receives, making unclaimed ones of `chunks` itself rather than waiting.
    pub fn new(chunks: &'c Chunks<F>, made: Receiver<Numbered<T, E>>) -> Self {
        InOrder { chunks, made, waiting: BTreeMap::new(), next: 0, current: Vec::new().into_iter(), busy: 0.0 }
    }

    /// The next chunk in order, made here or waited for; `None` after the last (or when the maker thread is gone
    /// with chunks unsent, which the caller sees as too few rows).
    fn next_chunk(&mut self) -> Option<Chunk<T, E>> {
        if self.next >= self.chunks.count {
            return None;
        }
        loop {
            if let Some(rows) = self.waiting.remove(&self.next) {
                self.next += 1;
                return Some(rows);
            }
            if let Ok((k, rows)) = self.made.try_recv() {
                self.waiting.insert(k, rows);
                continue;
            }
            if let Some(k) = self.chunks.claim() {
                let started = Instant::now();
                let rows = (self.chunks.make)(k);
                self.busy += started.elapsed().as_secs_f64();
                self.waiting.insert(k, rows);
                continue;
            }
            let (k, rows) = self.made.recv().ok()?;
            self.waiting.insert(k, rows);
        }
    }
}

impl<T, E, F: Fn(usize) -> Chunk<T, E>> Iterator for InOrder<'_, T, E, F> {
    type Item = Result<T, E>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(row) = self.current.next() {
                return Some(row);
            }
            self.current = self.next_chunk()?.into_iter();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(k: usize) -> Chunk<usize, String> {
        (0..3).map(|i| if k == 5 && i == 1 { Err("broken".to_string()) } else { Ok(k * 3 + i) }).collect()
    }

    #[test]
    fn rows_come_in_order_whoever_made_them() {
        for maker_chunks in [0, 1, 4, 9] {
            let chunks = Chunks::new(9, chunk);
            let (to, from) = chunks.channel();
            // The maker thread gets the first `maker_chunks` chunks; the writer makes the rest itself.
            for _ in 0..maker_chunks {
                let k = chunks.claim().expect("unclaimed");
                to.send((k, chunk(k))).expect("send");
            }
            drop(to);
            let rows: Vec<Result<usize, String>> = InOrder::new(&chunks, from).collect();
            let expected: Vec<Result<usize, String>> = (0..9).flat_map(chunk).collect();
            assert_eq!(rows, expected, "maker made {maker_chunks}");
        }
    }

    #[test]
    fn a_maker_thread_and_the_writer_share_the_chunks() {
        let chunks = Chunks::new(200, |k| {
            // Slow enough that both threads get some.
            std::thread::sleep(std::time::Duration::from_micros(200));
            vec![Ok::<usize, String>(k)]
        });
        let (to, from) = chunks.channel();
        let rows: Vec<usize> = std::thread::scope(|scope| {
            let maker = scope.spawn(|| chunks.make_and_send(to));
            let mut in_order = InOrder::new(&chunks, from);
            let rows = in_order.by_ref().collect::<Result<Vec<_>, _>>().expect("rows");
            assert!(in_order.busy > 0.0, "the writer made some");
            assert!(maker.join().expect("maker") > 0.0, "the maker made some");
            rows
        });
        assert_eq!(rows, (0..200).collect::<Vec<_>>());
    }

    #[test]
    fn a_maker_gone_early_ends_the_rows() {
        let chunks = Chunks::new(4, chunk);
        let (to, from) = chunks.channel();
        // Chunks 0 and 1 claimed by a maker that sends only chunk 1 and stops.
        let (first, second) = (chunks.claim().expect("0"), chunks.claim().expect("1"));
        to.send((second, chunk(second))).expect("send");
        drop(to);
        assert_eq!(first, 0);
        let rows: Vec<_> = InOrder::new(&chunks, from).collect();
        assert!(rows.is_empty(), "chunk 0 never comes: {rows:?}");
    }
}
