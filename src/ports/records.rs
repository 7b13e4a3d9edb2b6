//! How the stream's index writes its pods and Services to tapes
//! ([`super::tape`]): a plain encoding, private to one run. Places and
//! (old, new) port pairs are written the same way by the port plan's
//! records (`filed::record`).

use super::index::{At, Fate, Movable, PodEntry, ServiceEntry};
use super::labels::Labels;
#[cfg(test)]
use super::others::OtherPod;
use super::tape::{Record, Take, put};
use std::io;
use std::sync::Arc;

pub(super) fn put_at(out: &mut Vec<u8>, at: At) {
    put::usize(out, at.doc);
    put::usize(out, at.resource);
}

pub(super) fn take_at(bytes: &mut Take) -> io::Result<At> {
    Ok(At { doc: bytes.usize()?, resource: bytes.usize()? })
}

pub(super) fn put_pairs(out: &mut Vec<u8>, pairs: &[(u64, u64)]) {
    put::usize(out, pairs.len());
    for &(a, b) in pairs {
        put::u64(out, a);
        put::u64(out, b);
    }
}

pub(super) fn take_pairs(bytes: &mut Take) -> io::Result<Box<[(u64, u64)]>> {
    (0..bytes.usize()?).map(|_| Ok((bytes.u64()?, bytes.u64()?))).collect()
}

impl Record for PodEntry {
    fn put(&self, out: &mut Vec<u8>) {
        put_at(out, self.at);
        put::u64(out, u64::from(self.site_no));
        put::bool(out, self.pod_security_context);
        put::str(out, &self.namespace);
        put::str(out, self.labels.encoded());
        put::usize(out, self.low_ports.len());
        self.low_ports.iter().for_each(|&p| put::u64(out, p));
        put::bool(out, self.all_bind);
        match &self.fate {
            Fate::Frozen(why) => {
                put::bool(out, false);
                put::str(out, why);
            }
            Fate::Movable(m) => {
                put::bool(out, true);
                put_pairs(out, &m.moves);
                put::bool(out, m.untold);
            }
        }
    }

    fn take(bytes: &mut Take) -> io::Result<PodEntry> {
        Ok(PodEntry {
            at: take_at(bytes)?,
            site_no: bytes.u32()?,
            pod_security_context: bytes.bool()?,
            namespace: Arc::from(bytes.str()?),
            labels: Labels::from_encoded(bytes.str()?),
            low_ports: (0..bytes.usize()?).map(|_| bytes.u64()).collect::<io::Result<_>>()?,
            all_bind: bytes.bool()?,
            fate: match bytes.bool()? {
                false => Fate::Frozen(bytes.str()?.to_string().into()),
                true => Fate::Movable(Movable { moves: take_pairs(bytes)?, untold: bytes.bool()? }),
            },
        })
    }
}

impl Record for ServiceEntry {
    fn put(&self, out: &mut Vec<u8>) {
        put_at(out, self.at);
        put::str(out, self.labels.encoded());
        put::str(out, &self.namespace);
        put::str(out, &self.name);
        put::str(out, self.selector.encoded());
        put::bool(out, self.headless);
        put::usize(out, self.targets.len());
        for &(i, t) in &self.targets {
            put::u64(out, u64::from(i));
            put::u64(out, t);
        }
    }

    fn take(bytes: &mut Take) -> io::Result<ServiceEntry> {
        Ok(ServiceEntry {
            at: take_at(bytes)?,
            labels: Labels::from_encoded(bytes.str()?),
            namespace: Arc::from(bytes.str()?),
            name: bytes.str()?.into(),
            selector: Labels::from_encoded(bytes.str()?),
            headless: bytes.bool()?,
            targets: (0..bytes.usize()?).map(|_| Ok((bytes.u32()?, bytes.u64()?))).collect::<io::Result<_>>()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::tape::Tape;
    use serde_json::json;

    fn round_trip<T: Record + PartialEq + std::fmt::Debug>(records: Vec<T>) {
        let mut tape = Tape::new(Some(0));
        records.iter().for_each(|r| tape.push(r).expect("pushed"));
        let back: Vec<T> = tape.read().expect("read").collect::<io::Result<_>>().expect("records");
        assert_eq!(back, records);
    }

    #[test]
    fn pods_services_and_other_pods_come_back_as_they_went_in() {
        let labels = Labels::of(Some(&json!({"team": "a", "odd": 1, "empty": "", "ключ": "x:y"})));
        let pod = |fate| PodEntry {
            at: At { doc: 1 << 41 | 7, resource: 3 },
            site_no: 2,
            pod_security_context: true,
            namespace: Arc::from("shop"),
            labels: labels.clone(),
            low_ports: vec![80, 443].into(),
            all_bind: false,
            fate,
        };
        round_trip(vec![
            pod(Fate::Frozen("the pod uses the host network".into())),
            pod(Fate::Movable(Movable { moves: vec![(80, 8080), (443, 8444)].into(), untold: true })),
            pod(Fate::Movable(Movable::default())),
        ]);
        round_trip(vec![ServiceEntry {
            at: At { doc: 9, resource: 0 },
            labels,
            namespace: Arc::from(""),
            name: "wéb".into(),
            selector: Labels::of(Some(&json!({"app": "web"}))),
            headless: true,
            targets: vec![(0, 80), (3, u64::MAX)].into(),
        }]);
        round_trip(vec![OtherPod(vec![1, u64::MAX]), OtherPod(vec![]), OtherPod(vec![42])]);
    }
}
