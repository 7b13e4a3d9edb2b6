//! Where the port index puts Services and pods without a privileged port
//! once they pass a memory budget: anonymous temporary files (unlinked as
//! they are made, so nothing is left behind), written as the stream is
//! indexed and read back once, in stream order, when the port decisions
//! are made. Of the Services, only those that select a pod with a
//! privileged port come back into memory (`selection`); the other pods are
//! only counted. So what a run holds for the whole stream is the pods with
//! privileged ports, not every Service and pod.
//!
//! The records are private to one run: a plain length-prefixed encoding.

use super::index::{At, Index, ServiceEntry};
use super::labels::{Labels, Names};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::sync::Arc;

/// An index's budget and, once it has been passed, its spill files.
#[derive(Debug, Default)]
pub struct Overflow {
    /// Bytes of Services and other pods to hold before spilling (None:
    /// never, as for the index of one chunk).
    budget: Option<usize>,
    /// About how many bytes they take now.
    held: usize,
    files: Option<Files>,
    /// Where the files go (None: the system's temporary directory).
    dir: Option<std::path::PathBuf>,
}

/// The two files, each taken when it is read back.
#[derive(Debug)]
struct Files {
    services: Option<Spill>,
    others: Option<Spill>,
}

impl Overflow {
    pub fn new(budget: usize) -> Overflow {
        Overflow { budget: Some(budget), ..Overflow::default() }
    }

    /// Count what `part` will add.
    pub fn count(&mut self, part: &Index) {
        if self.budget.is_some() {
            self.held += part.services.iter().map(held_by).sum::<usize>() + 8 * part.others.len();
        }
    }

    /// The budget, which the port plan keeps to as well (None: never
    /// spill, or no file could be made).
    pub fn budget(&self) -> Option<usize> {
        self.budget
    }

    pub fn is_due(&self) -> bool {
        self.budget.is_some_and(|b| self.held > b)
    }
}

/// About what a Service takes in memory: the entry, its strings and lists.
fn held_by(s: &ServiceEntry) -> usize {
    size_of::<ServiceEntry>()
        + s.name.len()
        + s.labels.bytes()
        + s.selector.bytes()
        + s.targets.len() * size_of::<(u32, u64)>()
}

impl Index {
    /// Move the Services and other pods held in memory to the spill files.
    /// Where no temporary file can be made (a read-only file system), the
    /// index stays in memory and stops trying.
    pub(super) fn spill(&mut self, names: &Names) -> io::Result<()> {
        let overflow = &mut self.overflow;
        if overflow.files.is_none() {
            let dir = overflow.dir.as_deref();
            match (Spill::new(dir), Spill::new(dir)) {
                (Ok(services), Ok(others)) => {
                    overflow.files = Some(Files { services: Some(services), others: Some(others) })
                }
                _ => {
                    overflow.budget = None;
                    return Ok(());
                }
            }
        }
        let Some(Files { services: Some(services), others: Some(others) }) = overflow.files.as_mut() else {
            return Ok(());
        };
        for s in &self.services {
            services.service(s)?;
        }
        for pod in self.others.iter() {
            others.other(pod)?;
        }
        self.services.clear();
        self.others.clear();
        overflow.held = 0;
        names.purge();
        Ok(())
    }

    /// Every Service, in stream order, handed to `f` one at a time (those
    /// spilled read back first); the index keeps none of them.
    pub fn drain_services(&mut self, mut f: impl FnMut(ServiceEntry)) -> io::Result<()> {
        if let Some(spill) = self.overflow.files.as_mut().and_then(|f| f.services.take()) {
            let mut reader = spill.read_back()?;
            while let Some(s) = reader.service()? {
                f(s);
            }
        }
        std::mem::take(&mut self.services).into_iter().for_each(f);
        Ok(())
    }

    /// Every other pod's triples, in stream order (those spilled first).
    pub fn each_other(&mut self, mut f: impl FnMut(&[u64])) -> io::Result<()> {
        if let Some(spill) = self.overflow.files.as_mut().and_then(|f| f.others.take()) {
            let mut reader = spill.read_back()?;
            let mut pod = Vec::new();
            while reader.other(&mut pod)? {
                f(&pod);
            }
        }
        self.others.iter().for_each(f);
        Ok(())
    }
}

/// One kind of record, appended to its own file.
#[derive(Debug)]
pub struct Spill {
    file: BufWriter<File>,
    records: usize,
}

impl Spill {
    /// A new, empty spill file in `dir` (None: the temporary directory).
    pub fn new(dir: Option<&std::path::Path>) -> io::Result<Spill> {
        let file = match dir {
            Some(dir) => tempfile::tempfile_in(dir)?,
            None => tempfile::tempfile()?,
        };
        Ok(Spill { file: BufWriter::with_capacity(1 << 16, file), records: 0 })
    }

    pub fn service(&mut self, s: &ServiceEntry) -> io::Result<()> {
        let w = &mut self.file;
        put_u64(w, s.at.doc as u64)?;
        put_u64(w, s.at.resource as u64)?;
        put_str(w, &s.namespace)?;
        put_str(w, &s.name)?;
        put_labels(w, &s.labels)?;
        put_labels(w, &s.selector)?;
        w.write_all(&[u8::from(s.headless)])?;
        put_u64(w, s.targets.len() as u64)?;
        for &(i, t) in &s.targets {
            put_u64(w, u64::from(i))?;
            put_u64(w, t)?;
        }
        self.records += 1;
        Ok(())
    }

    /// A pod's triples (`index::OtherPods`).
    pub fn other(&mut self, triples: &[u64]) -> io::Result<()> {
        put_u64(&mut self.file, triples.len() as u64)?;
        for t in triples {
            put_u64(&mut self.file, *t)?;
        }
        self.records += 1;
        Ok(())
    }

    /// Everything written, from the start.
    pub fn read_back(self) -> io::Result<Reader> {
        let mut file = self.file.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.rewind()?;
        Ok(Reader { file: BufReader::with_capacity(1 << 16, file), left: self.records })
    }
}

/// The records of a spill file, in the order written.
pub struct Reader {
    file: BufReader<File>,
    left: usize,
}

impl Reader {
    /// The next Service, if any is left. (Its strings are not shared with
    /// the index's: most Services read back are dropped at once.)
    pub fn service(&mut self) -> io::Result<Option<ServiceEntry>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let r = &mut self.file;
        let at = At { doc: get_u64(r)? as usize, resource: get_u64(r)? as usize };
        let namespace = Arc::from(get_str(r)?);
        let name = get_str(r)?.into_boxed_str();
        let labels = get_labels(r)?;
        let selector = get_labels(r)?;
        let mut headless = [0];
        r.read_exact(&mut headless)?;
        let targets = (0..get_u64(r)?)
            .map(|_| Ok((u32::try_from(get_u64(r)?).map_err(io::Error::other)?, get_u64(r)?)))
            .collect::<io::Result<_>>()?;
        Ok(Some(ServiceEntry { at, labels, namespace, name, selector, headless: headless[0] != 0, targets }))
    }

    /// The next pod's triples, into `out`; false when none is left.
    pub fn other(&mut self, out: &mut Vec<u64>) -> io::Result<bool> {
        if self.left == 0 {
            return Ok(false);
        }
        self.left -= 1;
        out.clear();
        for _ in 0..get_u64(&mut self.file)? {
            out.push(get_u64(&mut self.file)?);
        }
        Ok(true)
    }
}

fn put_u64(w: &mut impl Write, n: u64) -> io::Result<()> {
    w.write_all(&n.to_le_bytes())
}

fn put_str(w: &mut impl Write, s: &str) -> io::Result<()> {
    put_u64(w, s.len() as u64)?;
    w.write_all(s.as_bytes())
}

fn put_labels(w: &mut impl Write, labels: &Labels) -> io::Result<()> {
    put_u64(w, labels.iter().count() as u64)?;
    labels.iter().try_for_each(|(k, v)| put_str(w, k).and_then(|()| put_str(w, v)))
}

fn get_u64(r: &mut impl Read) -> io::Result<u64> {
    let mut b = [0; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

fn get_str(r: &mut impl Read) -> io::Result<String> {
    let mut b = vec![0; get_u64(r)? as usize];
    r.read_exact(&mut b)?;
    String::from_utf8(b).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

fn get_labels(r: &mut impl Read) -> io::Result<Labels> {
    let pairs = (0..get_u64(r)?).map(|_| Ok((get_str(r)?, get_str(r)?)));
    Ok(Labels::from_pairs(pairs.collect::<io::Result<Vec<_>>>()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn services_and_pods_come_back_as_they_went_in() {
        let names = Names::default();
        let service = ServiceEntry {
            at: At { doc: 1 << 41 | 7, resource: 3 },
            labels: Labels::of(Some(&json!({"team": "a", "odd": 1, "empty": ""}))),
            namespace: names.get("shop"),
            name: "wéb".into(),
            selector: Labels::of(Some(&json!({"app": "web"}))),
            headless: true,
            targets: vec![(0, 80), (3, u64::MAX)].into(),
        };
        let mut spill = Spill::new(None).expect("a temporary file");
        spill.service(&service).expect("written");
        spill.service(&service).expect("written");
        let mut back = spill.read_back().expect("read back");
        let want = format!("{service:?}");
        assert_eq!(back.service().expect("read").map(|s| format!("{s:?}")), Some(want.clone()));
        assert_eq!(back.service().expect("read").map(|s| format!("{s:?}")), Some(want));
        assert!(back.service().expect("the end").is_none());

        let mut spill = Spill::new(None).expect("a temporary file");
        for pod in [&[1u64, u64::MAX][..], &[], &[42]] {
            spill.other(pod).expect("written");
        }
        let mut back = spill.read_back().expect("read back");
        let mut pod = Vec::new();
        let mut seen = Vec::new();
        while back.other(&mut pod).expect("read") {
            seen.push(pod.clone());
        }
        assert_eq!(seen, vec![vec![1, u64::MAX], vec![], vec![42]]);
    }

    #[test]
    fn where_no_file_can_be_made_the_index_stays_in_memory() {
        let names = Names::default();
        let mut index = Index::spilling_past(0);
        index.overflow.dir = Some("/nonexistent/harden-test".into());
        let mut part = Index::default();
        let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}}});
        let kinds = crate::workload::built_in_kinds();
        let opts =
            super::super::index::IndexOptions { kinds: &kinds, map: &[(80, 8080)], partial: false, names: &names };
        part.add(0, &service, None, &opts);
        index.merge(part, &names).expect("no error: the index stays in memory");
        assert_eq!(index.services.len(), 1);
        assert!(index.overflow.files.is_none() && !index.overflow.is_due(), "and stops trying");
    }
}
