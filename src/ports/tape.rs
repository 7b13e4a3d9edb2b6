//! A list of records that stays in memory while small and moves to an
//! anonymous temporary file (unlinked as it is made, so nothing is left
//! behind) once it passes a budget: what the port pass uses for everything
//! it keeps about the whole stream, so that its memory does not grow with
//! the stream. Read back in the order written, as often as needed.
//!
//! The records are private to one run: each is a length and its bytes, in
//! a plain encoding ([`put`] writes it, [`Take`] reads it back).

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::PathBuf;

/// What a tape holds: written as bytes, read back the same.
pub trait Record: Sized {
    fn put(&self, out: &mut Vec<u8>);
    fn take(bytes: &mut Take) -> io::Result<Self>;
}

/// Budgets above this grow their buffer as needed rather than reserve it.
const MAX_ROOM: usize = 64 << 20;

/// Records in the order pushed.
pub struct Tape<T> {
    /// Records not yet in the file (all of them while it is small).
    mem: Vec<u8>,
    file: Option<BufWriter<File>>,
    /// Bytes to hold in memory before moving to a file (None: never).
    budget: Option<usize>,
    /// Where the file goes (None: the system's temporary directory).
    dir: Option<PathBuf>,
    records: usize,
    /// Whether the file was read since last written to (its offset moved).
    was_read: bool,
    scratch: Vec<u8>,
    record: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Tape<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tape").field("records", &self.records).field("in_file", &self.file.is_some()).finish()
    }
}

impl<T: Record> Tape<T> {
    /// A tape that moves to a file past `budget` bytes (None: never).
    pub fn new(budget: Option<usize>) -> Tape<T> {
        Tape {
            mem: Vec::new(),
            file: None,
            budget,
            dir: None,
            records: 0,
            was_read: false,
            scratch: Vec::new(),
            record: PhantomData,
        }
    }

    /// Its file, when it needs one, goes in `dir` (for tests).
    pub fn in_dir(mut self, dir: PathBuf) -> Tape<T> {
        self.dir = Some(dir);
        self
    }

    pub fn push(&mut self, record: &T) -> io::Result<()> {
        self.scratch.clear();
        record.put(&mut self.scratch);
        let len = u32::try_from(self.scratch.len()).map_err(io::Error::other)?;
        // Room for the whole budget at once: grown by doubling, a big
        // buffer is moved to a new allocation each time, and a long stream
        // of those (one tape after another) left the allocator holding
        // more and more memory it had freed.
        if let Some(room) = self.room()
            && self.mem.capacity() < room
        {
            self.mem.reserve_exact(room - self.mem.len());
        }
        self.mem.extend_from_slice(&len.to_le_bytes());
        self.mem.extend_from_slice(&self.scratch);
        self.records += 1;
        if self.budget.is_some_and(|b| self.mem.len() > b) {
            self.move_to_file()?;
        }
        Ok(())
    }

    /// Move what memory holds to the file (made the first time). Where no
    /// file can be made (a read-only file system), the tape stays in memory
    /// and stops trying.
    fn move_to_file(&mut self) -> io::Result<()> {
        if self.file.is_none() {
            let made = match &self.dir {
                Some(dir) => tempfile::tempfile_in(dir),
                None => tempfile::tempfile(),
            };
            let Ok(file) = made else {
                self.budget = None;
                return Ok(());
            };
            self.file = Some(BufWriter::with_capacity(1 << 16, file));
        }
        if let Some(file) = self.file.as_mut() {
            if std::mem::take(&mut self.was_read) {
                file.seek(SeekFrom::End(0))?;
            }
            file.write_all(&self.mem)?;
            self.mem.clear();
            // Keep the room for the next records, and no more.
            if let Some(room) = self.room()
                && self.mem.capacity() > 2 * room
            {
                self.mem.shrink_to(room);
            }
        }
        Ok(())
    }

    /// What memory holds before the records go to the file: the budget and
    /// a record or two past it (None: no budget, it grows as needed).
    fn room(&self) -> Option<usize> {
        const ABOVE: usize = 64 << 10;
        self.budget.filter(|b| b.saturating_add(ABOVE) <= MAX_ROOM).map(|b| b + ABOVE)
    }

    pub fn len(&self) -> usize {
        self.records
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Whether it has moved to a file.
    pub fn in_file(&self) -> bool {
        self.file.is_some()
    }

    /// Every record, from the first. More may be pushed afterwards.
    pub fn read(&mut self) -> io::Result<Reader<'_, T>> {
        let file = match self.file.as_mut() {
            None => None,
            Some(file) => {
                file.flush()?;
                self.was_read = true;
                let file = file.get_mut();
                file.seek(SeekFrom::Start(0))?;
                // What is still in memory was pushed after the file's records.
                let end = file.metadata()?.len();
                Some(file.take(end))
            }
        };
        Ok(Records::new(file, &self.mem[..], self.records))
    }

    /// Every record, from the first, by a reader that owns the tape and its
    /// file: for readers that must outlive a borrow (a merge holding many
    /// tapes). The file is closed once read through.
    pub fn into_reader(self) -> io::Result<IntoReader<T>> {
        let file = match self.file {
            None => None,
            Some(file) => {
                let mut file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
                file.seek(SeekFrom::Start(0))?;
                Some(file)
            }
        };
        Ok(Records::new(file, self.mem, self.records))
    }
}

/// A tape's records, in the order pushed, read from its file `F` (if it
/// has one) and then its memory `M`.
pub struct Records<F, M, T> {
    /// The file's records come first; None once read through.
    file: Option<BufReader<F>>,
    /// Then those still in memory, from `at`.
    mem: M,
    at: usize,
    left: usize,
    buf: Vec<u8>,
    record: PhantomData<fn() -> T>,
}

/// A tape's records, borrowing it ([`Tape::read`]).
pub type Reader<'a, T> = Records<io::Take<&'a mut File>, &'a [u8], T>;

/// A tape's records, owning it ([`Tape::into_reader`]).
pub type IntoReader<T> = Records<File, Vec<u8>, T>;

impl<F: Read, M: AsRef<[u8]>, T: Record> Records<F, M, T> {
    fn new(file: Option<F>, mem: M, records: usize) -> Records<F, M, T> {
        let file = file.map(|f| BufReader::with_capacity(1 << 16, f));
        Records { file, mem, at: 0, left: records, buf: Vec::new(), record: PhantomData }
    }

    fn next_record(&mut self) -> io::Result<T> {
        if let Some(file) = self.file.as_mut() {
            let mut len = [0; 4];
            if file.read(&mut len[..1])? == 1 {
                file.read_exact(&mut len[1..])?;
                self.buf.resize(u32::from_le_bytes(len) as usize, 0);
                file.read_exact(&mut self.buf)?;
                return T::take(&mut Take(&self.buf));
            }
            // The file is done: close it; the rest is in memory.
            self.file = None;
        }
        let mem = self.mem.as_ref();
        let mut take = Take(mem.get(self.at..).unwrap_or_default());
        let len = take.fixed::<4>().map(u32::from_le_bytes)? as usize;
        let body = take.bytes(len)?;
        self.at = mem.len() - take.0.len();
        T::take(&mut Take(body))
    }
}

impl<F: Read, M: AsRef<[u8]>, T: Record> Iterator for Records<F, M, T> {
    type Item = io::Result<T>;

    fn next(&mut self) -> Option<io::Result<T>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let record = self.next_record();
        if record.is_err() {
            self.left = 0;
        }
        Some(record)
    }
}

/// Writing a record: numbers as LEB128 (most are small), strings as their
/// length and bytes.
pub mod put {
    pub fn u64(out: &mut Vec<u8>, mut n: u64) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                return out.push(byte);
            }
            out.push(byte | 0x80);
        }
    }

    pub fn usize(out: &mut Vec<u8>, n: usize) {
        u64(out, n as u64);
    }

    pub fn bool(out: &mut Vec<u8>, b: bool) {
        out.push(u8::from(b));
    }

    pub fn str(out: &mut Vec<u8>, s: &str) {
        usize(out, s.len());
        out.extend_from_slice(s.as_bytes());
    }
}

/// Reading a record back (see [`put`]).
pub struct Take<'a>(&'a [u8]);

fn short() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "a port pass record ends early")
}

impl<'a> Take<'a> {
    pub fn new(bytes: &'a [u8]) -> Take<'a> {
        Take(bytes)
    }

    pub fn fixed<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>().ok_or_else(short)?;
        self.0 = rest;
        Ok(*head)
    }

    fn bytes(&mut self, n: usize) -> io::Result<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n).ok_or_else(short)?;
        self.0 = rest;
        Ok(head)
    }

    pub fn u64(&mut self) -> io::Result<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let [byte] = self.fixed::<1>()?;
            n |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(io::Error::new(io::ErrorKind::InvalidData, "a port pass record holds a number too long"))
    }

    pub fn u32(&mut self) -> io::Result<u32> {
        u32::try_from(self.u64()?).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    pub fn usize(&mut self) -> io::Result<usize> {
        usize::try_from(self.u64()?).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    pub fn bool(&mut self) -> io::Result<bool> {
        Ok(self.fixed::<1>()?[0] != 0)
    }

    pub fn str(&mut self) -> io::Result<&'a str> {
        let len = self.usize()?;
        std::str::from_utf8(self.bytes(len)?).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Pair(u64, String);

    impl Record for Pair {
        fn put(&self, out: &mut Vec<u8>) {
            put::u64(out, self.0);
            put::str(out, &self.1);
        }
        fn take(bytes: &mut Take) -> io::Result<Pair> {
            Ok(Pair(bytes.u64()?, bytes.str()?.to_string()))
        }
    }

    fn pairs(n: u64) -> Vec<Pair> {
        (0..n).map(|i| Pair(i.wrapping_mul(0x9e37_79b9_7f4a_7c15), format!("wé{i}"))).collect()
    }

    fn read_all(tape: &mut Tape<Pair>) -> Vec<Pair> {
        tape.read().expect("read").collect::<io::Result<_>>().expect("records")
    }

    #[test]
    fn records_come_back_in_order_from_memory_and_from_a_file() {
        for budget in [None, Some(0), Some(100)] {
            let mut tape = Tape::new(budget);
            for p in pairs(1000) {
                tape.push(&p).expect("pushed");
            }
            assert_eq!(tape.in_file(), budget.is_some(), "budget {budget:?}");
            assert_eq!(read_all(&mut tape), pairs(1000), "budget {budget:?}");
            // Read again, then pushed to after reading: still in order.
            assert_eq!(read_all(&mut tape).len(), 1000);
            tape.push(&Pair(7, "late".into())).expect("pushed");
            let all = read_all(&mut tape);
            assert_eq!((all.len(), &all[1000]), (1001, &Pair(7, "late".into())));
        }
    }

    #[test]
    fn an_owning_reader_reads_the_file_then_memory() {
        for budget in [None, Some(0), Some(100)] {
            let mut tape = Tape::new(budget);
            for p in pairs(1000) {
                tape.push(&p).expect("pushed");
            }
            // Read once by borrow first: the owning reader starts from the top.
            assert_eq!(read_all(&mut tape).len(), 1000);
            let all: Vec<Pair> = tape.into_reader().expect("reader").collect::<io::Result<_>>().expect("records");
            assert_eq!(all, pairs(1000), "budget {budget:?}");
        }
    }

    #[test]
    fn where_no_file_can_be_made_the_tape_stays_in_memory() {
        let mut tape = Tape::new(Some(0)).in_dir("/nonexistent/harden-test".into());
        for p in pairs(10) {
            tape.push(&p).expect("no error: it stays in memory");
        }
        assert!(!tape.in_file());
        assert_eq!(read_all(&mut tape), pairs(10));
    }

    #[test]
    fn numbers_of_every_size_round_trip() {
        let mut out = Vec::new();
        let numbers = [0, 1, 127, 128, 300, u32::MAX as u64, u64::MAX];
        numbers.iter().for_each(|&n| put::u64(&mut out, n));
        let mut take = Take::new(&out);
        let back: Vec<u64> = numbers.iter().map(|_| take.u64().expect("a number")).collect();
        assert_eq!(back, numbers);
        assert!(take.u64().is_err(), "nothing left");
    }
}
