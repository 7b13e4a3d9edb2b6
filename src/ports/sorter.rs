//! Sorting more records than memory should hold: an external merge sort
//! over [`tape`](super::tape) records, for the port pass's joins between
//! lists (pods and Services), done by sorting both sides and merging.
//!
//! Records are held in memory up to a budget; past it they are sorted and
//! written as a run to a file. Reading back merges the runs. Each open run
//! costs a file and a read buffer, so runs are merged as they pile up,
//! `FAN_IN` at a time (like the digits of a counter): a stream of any
//! length keeps a few dozen runs at most. Sorting is stable throughout:
//! equal records come back in the order pushed.

use super::tape::{IntoReader, Record, Tape};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;

/// Order a record type by a key of its own, for sorting: the rest of it (a
/// payload carried along) is not compared.
/// `ordered_by!(Candidate, |c| (c.pod, c.service));`
macro_rules! ordered_by {
    ($t:ty, |$r:ident| $key:expr) => {
        impl PartialEq for $t {
            fn eq(&self, other: &$t) -> bool {
                let key = |$r: &$t| $key;
                key(self) == key(other)
            }
        }
        impl Eq for $t {}
        impl PartialOrd for $t {
            fn partial_cmp(&self, other: &$t) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for $t {
            fn cmp(&self, other: &$t) -> std::cmp::Ordering {
                let key = |$r: &$t| $key;
                key(self).cmp(&key(other))
            }
        }
    };
}
pub(crate) use ordered_by;

/// How many runs one merge reads at once (each holds a 64 KiB buffer).
const FAN_IN: usize = 16;

/// Records sorted by their `Ord`, equal ones in the order pushed (stable).
pub struct Sorter<T: Record + Ord> {
    budget: usize,
    /// Records not yet in a run, and about how many bytes they take.
    held: Vec<T>,
    held_bytes: usize,
    /// Runs written, oldest first.
    runs: Vec<Run<T>>,
    records: usize,
    /// Where a record is encoded to be measured (kept for its room).
    scratch: Vec<u8>,
    fan_in: usize,
}

/// A sorted run and how many merges made it: levels never rise from the
/// oldest run to the newest, so same-level runs are adjacent.
struct Run<T> {
    tape: Tape<T>,
    level: u32,
}

impl<T: Record + Ord> Sorter<T> {
    /// Holds about `budget` bytes of records in memory; past that, sorts
    /// them and writes them as a run to a tape in a file.
    pub fn new(budget: usize) -> Sorter<T> {
        Sorter {
            budget,
            held: Vec::new(),
            held_bytes: 0,
            runs: Vec::new(),
            records: 0,
            scratch: Vec::new(),
            fan_in: FAN_IN,
        }
    }

    /// Add a record; may write a run (and merge runs) when past the budget.
    pub fn push(&mut self, record: T) -> io::Result<()> {
        // The encoded length stands for what the record owns on the heap.
        self.scratch.clear();
        record.put(&mut self.scratch);
        self.held_bytes += size_of::<T>() + self.scratch.len();
        self.held.push(record);
        self.records += 1;
        if self.held_bytes > self.budget {
            self.spill()?;
        }
        Ok(())
    }

    /// How many records were pushed.
    pub fn len(&self) -> usize {
        self.records
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// All records pushed, in order. Consumes the sorter.
    pub fn sorted(mut self) -> io::Result<Sorted<T>> {
        // Stable: equal records stay in the order pushed.
        self.held.sort();
        if self.runs.is_empty() {
            return Ok(Sorted(Inner::Memory(self.held.into_iter())));
        }
        self.narrow()?;
        let mut sources = readers(self.runs)?;
        // What is held was pushed after every run: it goes last.
        sources.push(Source::Memory(self.held.into_iter()));
        Ok(Sorted(Inner::Merge(Merge::new(sources)?)))
    }

    /// Write what is held as a sorted run, then merge runs that piled up.
    fn spill(&mut self) -> io::Result<()> {
        self.held.sort();
        let tape = write_run(self.held.drain(..).map(Ok))?;
        self.held_bytes = 0;
        self.runs.push(Run { tape, level: 0 });
        self.collapse()
    }

    /// While the newest `fan_in` runs share a level, merge them into one of
    /// the next: the runs kept grow as the log of the stream, not with it.
    fn collapse(&mut self) -> io::Result<()> {
        loop {
            let Some(start) = self.runs.len().checked_sub(self.fan_in) else { return Ok(()) };
            let level = self.runs[start].level;
            if self.runs[start..].iter().any(|run| run.level != level) {
                return Ok(());
            }
            self.merge_from(start, level + 1)?;
        }
    }

    /// Merge the newest runs (the shortest) until at most `fan_in` are
    /// left, for the final merge to read at once.
    fn narrow(&mut self) -> io::Result<()> {
        while self.runs.len() > self.fan_in {
            let group = (self.runs.len() - self.fan_in + 1).min(self.fan_in);
            let start = self.runs.len() - group;
            self.merge_from(start, self.runs[start].level + 1)?;
        }
        Ok(())
    }

    /// Merge the runs from `start` on into one. They are adjacent and in
    /// order, which keeps the sort stable.
    fn merge_from(&mut self, start: usize, level: u32) -> io::Result<()> {
        let sources = readers(self.runs.drain(start..))?;
        let tape = write_run(Merge::new(sources)?)?;
        self.runs.push(Run { tape, level });
        Ok(())
    }
}

/// A sorted run on a tape that goes to a file from the first record (where
/// no file can be made, the tape keeps it in memory).
fn write_run<T: Record>(records: impl Iterator<Item = io::Result<T>>) -> io::Result<Tape<T>> {
    let mut tape = Tape::new(Some(0));
    for record in records {
        tape.push(&record?)?;
    }
    Ok(tape)
}

fn readers<T: Record>(runs: impl IntoIterator<Item = Run<T>>) -> io::Result<Vec<Source<T>>> {
    runs.into_iter().map(|run| run.tape.into_reader().map(Source::Tape)).collect()
}

/// The records of a [`Sorter`], ascending. Owns whatever files it reads.
pub struct Sorted<T>(Inner<T>);

enum Inner<T> {
    /// Nothing was written: the records sorted in memory.
    Memory(std::vec::IntoIter<T>),
    Merge(Merge<T>),
}

impl<T: Record + Ord> Iterator for Sorted<T> {
    type Item = io::Result<T>;

    fn next(&mut self) -> Option<io::Result<T>> {
        match &mut self.0 {
            Inner::Memory(records) => records.next().map(Ok),
            Inner::Merge(merge) => merge.next(),
        }
    }
}

/// One sorted input of a merge.
enum Source<T> {
    Tape(IntoReader<T>),
    Memory(std::vec::IntoIter<T>),
}

impl<T: Record> Source<T> {
    fn next(&mut self) -> Option<io::Result<T>> {
        match self {
            Source::Tape(reader) => reader.next(),
            Source::Memory(records) => records.next().map(Ok),
        }
    }
}

/// A k-way merge of sorted sources. Equal records come from the earlier
/// source first (the heap orders by record, then source number), which is
/// what keeps a merge of runs in push order stable.
struct Merge<T> {
    sources: Vec<Source<T>>,
    heads: BinaryHeap<Reverse<(T, usize)>>,
    /// The source whose head was last handed out, to refill on the next
    /// call (so that an error reading it comes after the record before).
    taken: Option<usize>,
}

impl<T: Record + Ord> Merge<T> {
    fn new(sources: Vec<Source<T>>) -> io::Result<Merge<T>> {
        let heads = BinaryHeap::with_capacity(sources.len());
        let mut merge = Merge { sources, heads, taken: None };
        for source in 0..merge.sources.len() {
            merge.refill(source)?;
        }
        Ok(merge)
    }

    fn refill(&mut self, source: usize) -> io::Result<()> {
        if let Some(record) = self.sources[source].next() {
            self.heads.push(Reverse((record?, source)));
        }
        Ok(())
    }
}

impl<T: Record + Ord> Iterator for Merge<T> {
    type Item = io::Result<T>;

    fn next(&mut self) -> Option<io::Result<T>> {
        if let Some(source) = self.taken.take() {
            if let Err(e) = self.refill(source) {
                // The order past a lost record is unknown: stop here.
                self.heads.clear();
                return Some(Err(e));
            }
        }
        let Reverse((record, source)) = self.heads.pop()?;
        self.taken = Some(source);
        Some(Ok(record))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tape::{Take, put};
    use super::*;

    /// Ordered by `key` alone; `seq` tells pushes apart, `pad` varies the
    /// encoded length.
    #[derive(Clone, Debug)]
    struct Item {
        key: u64,
        seq: u64,
        pad: String,
    }

    ordered_by!(Item, |i| i.key);

    impl Record for Item {
        fn put(&self, out: &mut Vec<u8>) {
            put::u64(out, self.key);
            put::u64(out, self.seq);
            put::str(out, &self.pad);
        }
        fn take(bytes: &mut Take) -> io::Result<Item> {
            Ok(Item { key: bytes.u64()?, seq: bytes.u64()?, pad: bytes.str()?.to_string() })
        }
    }

    /// `n` items with keys from a small range (many ties), by an LCG.
    fn items(n: u64, keys: u64) -> Vec<Item> {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        (0..n)
            .map(|seq| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let r = state >> 33;
                Item { key: r % keys, seq, pad: "p".repeat((r % 13) as usize) }
            })
            .collect()
    }

    fn sorter_of(items: &[Item], budget: usize, fan_in: usize) -> Sorter<Item> {
        let mut sorter = Sorter::new(budget);
        sorter.fan_in = fan_in;
        for item in items {
            sorter.push(item.clone()).expect("pushed");
        }
        sorter
    }

    /// What comes out, as (key, seq, pad): everything, not just the key.
    fn drain(sorter: Sorter<Item>) -> Vec<(u64, u64, String)> {
        let sorted = sorter.sorted().expect("sorted");
        sorted.map(|item| item.map(|i| (i.key, i.seq, i.pad))).collect::<io::Result<_>>().expect("records")
    }

    /// What `Vec::sort` (stable) makes of the same items.
    fn expected(items: &[Item]) -> Vec<(u64, u64, String)> {
        let mut items = items.to_vec();
        items.sort();
        items.into_iter().map(|i| (i.key, i.seq, i.pad)).collect()
    }

    #[test]
    fn sorts_like_a_stable_sort_in_memory_and_in_files() {
        let items = items(3000, 97);
        // Every record a run; many runs; all in memory.
        for budget in [0, 2000, 1 << 30] {
            let sorter = sorter_of(&items, budget, FAN_IN);
            assert_eq!(sorter.len(), 3000);
            assert_eq!(sorter.runs.is_empty(), budget == 1 << 30, "budget {budget}");
            assert_eq!(drain(sorter), expected(&items), "budget {budget}");
        }
    }

    #[test]
    fn runs_are_merged_as_they_pile_up_and_before_the_last_merge() {
        // One record a run, three to a merge: 26 = 2·9 + 2·3 + 2 leaves
        // runs of levels 2, 2, 1, 1, 0, 0, too many to merge at once.
        let items = items(26, 5);
        let sorter = sorter_of(&items, 0, 3);
        let levels: Vec<u32> = sorter.runs.iter().map(|run| run.level).collect();
        assert_eq!(levels, [2, 2, 1, 1, 0, 0]);
        assert!(sorter.runs.iter().all(|run| run.tape.in_file()));
        assert_eq!(drain(sorter), expected(&items));
        // The last merge reads three runs and what is held, not six.
        let Inner::Merge(merge) = sorter_of(&items, 0, 3).sorted().expect("sorted").0 else { panic!("no merge") };
        assert_eq!(merge.sources.len(), 3 + 1);
        // A longer stream keeps few runs.
        let items = self::items(5000, 40);
        let sorter = sorter_of(&items, 300, 3);
        assert!(sorter.runs.len() <= 2 * 8, "{} runs", sorter.runs.len());
        assert!(sorter.runs.iter().any(|run| run.level >= 3));
        assert_eq!(drain(sorter), expected(&items));
    }

    #[test]
    fn equal_records_keep_the_order_pushed() {
        let items: Vec<Item> = (0..500).map(|seq| Item { key: 7, seq, pad: String::new() }).collect();
        for budget in [0, 100, 1 << 30] {
            let seqs: Vec<u64> = drain(sorter_of(&items, budget, 4)).into_iter().map(|(_, seq, _)| seq).collect();
            assert_eq!(seqs, (0..500).collect::<Vec<_>>(), "budget {budget}");
        }
    }

    #[test]
    fn an_empty_sorter_yields_nothing() {
        for budget in [0, 1 << 30] {
            let sorter: Sorter<Item> = Sorter::new(budget);
            assert!(sorter.is_empty());
            assert_eq!(sorter.sorted().expect("sorted").count(), 0);
        }
    }
}
