//! A list of lists kept flat: every list's items in one vector and where
//! each list ends (a vector per list cost more than the few items in it,
//! for every pod and Service of a big stream).

#[derive(Debug)]
pub struct Runs<T> {
    items: Vec<T>,
    /// Where each list ends in `items`.
    ends: Vec<usize>,
}

impl<T> Default for Runs<T> {
    fn default() -> Self {
        Runs { items: Vec::new(), ends: Vec::new() }
    }
}

impl<T> Runs<T> {
    /// Add a list at the end.
    pub fn push(&mut self, list: impl IntoIterator<Item = T>) {
        self.items.extend(list);
        self.ends.push(self.items.len());
    }

    /// List number `i`.
    pub fn get(&self, i: usize) -> &[T] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.items[start..self.ends[i]]
    }

    /// Every list, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[T]> {
        (0..self.ends.len()).map(|i| self.get(i))
    }

    /// How many lists.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// How many items, in all the lists.
    pub fn items(&self) -> usize {
        self.items.len()
    }

    /// Add `other`'s lists at the end.
    pub fn append(&mut self, other: Runs<T>) {
        let base = self.items.len();
        self.items.extend(other.items);
        self.ends.extend(other.ends.into_iter().map(|e| e + base));
    }

    /// Forget every list, keeping the room.
    pub fn clear(&mut self) {
        self.items.clear();
        self.ends.clear();
    }

    pub fn shrink_to_fit(&mut self) {
        self.items.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

impl Runs<u32> {
    /// The lists of numbers below `n` turned inside out: for each number,
    /// the (increasing) numbers of the lists it is in.
    pub fn transpose(&self, n: usize) -> Runs<u32> {
        let mut ends = vec![0usize; n];
        for &x in &self.items {
            ends[x as usize] += 1;
        }
        let mut total = 0;
        for e in &mut ends {
            total += *e;
            *e = total;
        }
        // Filled from the back, so each list keeps increasing order.
        let mut next = ends.clone();
        let mut items = vec![0u32; self.items.len()];
        for list in (0..self.ends.len()).rev() {
            for &x in self.get(list).iter().rev() {
                next[x as usize] -= 1;
                items[next[x as usize]] = u32::try_from(list).expect("fewer than 2^32 lists");
            }
        }
        Runs { items, ends }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_come_back_as_pushed_appended_and_turned_inside_out() {
        let mut a: Runs<u32> = Runs::default();
        a.push([0, 2]);
        a.push([]);
        let mut b = Runs::default();
        b.push([1, 2]);
        a.append(b);
        assert_eq!(a.iter().collect::<Vec<_>>(), [&[0, 2][..], &[], &[1, 2]]);
        assert_eq!((a.len(), a.items()), (3, 4));
        let t = a.transpose(4);
        assert_eq!(t.iter().collect::<Vec<_>>(), [&[0][..], &[2], &[0, 2], &[]]);
        a.clear();
        assert!(a.is_empty() && a.items() == 0);
    }
}
