//! Stand-in (in memory) until the external sorter lands.

use super::tape::Record;
use std::io;

pub struct Sorter<T> {
    items: Vec<T>,
}

impl<T: Record + Ord> Sorter<T> {
    pub fn new(_budget: usize) -> Sorter<T> {
        Sorter { items: Vec::new() }
    }
    pub fn push(&mut self, record: T) -> io::Result<()> {
        self.items.push(record);
        Ok(())
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    pub fn sorted(mut self) -> io::Result<Sorted<T>> {
        self.items.sort();
        Ok(Sorted(self.items.into_iter()))
    }
}

pub struct Sorted<T>(std::vec::IntoIter<T>);

impl<T> Iterator for Sorted<T> {
    type Item = io::Result<T>;
    fn next(&mut self) -> Option<io::Result<T>> {
        self.0.next().map(Ok)
    }
}
