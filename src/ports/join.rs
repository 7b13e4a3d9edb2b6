//! Reading two lists sorted by the same key side by side: a merge join.
//! The port pass's lists are on tapes or come out of a sorter, in order,
//! and it joins them instead of holding one in memory to look things up.

use std::io;

/// A sorted stream of records, read a key at a time.
pub struct Cursor<T, I> {
    records: I,
    head: Option<T>,
}

impl<T, I: Iterator<Item = io::Result<T>>> Cursor<T, I> {
    pub fn new(mut records: I) -> io::Result<Cursor<T, I>> {
        let head = records.next().transpose()?;
        Ok(Cursor { records, head })
    }

    /// The records at the front while `at_or_before(record)` holds, in
    /// order (a key's records, when the stream is sorted by key and the
    /// caller asks for keys in increasing order).
    pub fn take(&mut self, mut at_or_before: impl FnMut(&T) -> bool) -> io::Result<Vec<T>> {
        let mut out = Vec::new();
        while let Some(record) = self.head.take_if(|r| at_or_before(r)) {
            out.push(record);
            self.head = self.records.next().transpose()?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sorted_stream_is_read_a_key_at_a_time() {
        let records = [1, 1, 3, 4, 4, 4].into_iter().map(Ok);
        let mut cursor = Cursor::new(records).expect("a cursor");
        assert_eq!(cursor.take(|&r| r <= 0).expect("read"), Vec::<i32>::new());
        assert_eq!(cursor.take(|&r| r <= 1).expect("read"), vec![1, 1]);
        assert_eq!(cursor.take(|&r| r <= 2).expect("read"), Vec::<i32>::new());
        assert_eq!(cursor.take(|&r| r <= 4).expect("read"), vec![3, 4, 4, 4]);
        assert_eq!(cursor.take(|_| true).expect("read"), Vec::<i32>::new());
    }

    #[test]
    fn a_read_error_is_returned() {
        let records = vec![Ok(1), Err(io::Error::other("disk")), Ok(3)].into_iter();
        let mut cursor = Cursor::new(records).expect("a cursor");
        assert!(cursor.take(|_| true).is_err());
    }
}
