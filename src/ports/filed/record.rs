//! Pod decisions and Service targets as tape records. Most reasons are
//! harden's own texts (borrowed from the binary): a record gives those by
//! number ([`Reasons`]), and they come back borrowed; any other reason is
//! written out and comes back owned.

use super::super::index::At;
use super::super::records::{put_at, put_pairs, take_at, take_pairs};
use super::super::tape::{Record, Take, put};
use super::super::{Action, Why};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io;

/// A pod's decision: what happens to the ports of pod number `site` of
/// the resource at `at`.
#[derive(Clone, Debug, PartialEq)]
pub struct Pod {
    pub at: At,
    pub site: usize,
    pub action: Action,
}

/// A pod's decision as a tape holds it (see [`Reasons`]).
#[derive(Debug, PartialEq)]
pub struct PodRecord {
    at: At,
    site: usize,
    action: Stored,
}

/// An [`Action`] with its reason as a [`Reason`].
#[derive(Debug, PartialEq)]
enum Stored {
    Keep(Reason),
    Sysctl(Reason),
    Untold,
    Move(Box<[(u64, u64)]>, Reason),
}

#[derive(Debug, PartialEq)]
enum Reason {
    /// One of harden's own texts, by number.
    Known(usize),
    Text(String),
}

/// The distinct texts of the borrowed reasons filed, numbered (as many as
/// the binary has, whatever the stream's length).
#[derive(Debug, Default)]
pub struct Reasons {
    texts: Vec<&'static str>,
    numbers: HashMap<&'static str, usize>,
}

impl Reasons {
    pub fn record(&mut self, pod: Pod) -> PodRecord {
        let mut reason = |why: Why| match why {
            Cow::Borrowed(text) => Reason::Known(*self.numbers.entry(text).or_insert_with(|| {
                self.texts.push(text);
                self.texts.len() - 1
            })),
            Cow::Owned(text) => Reason::Text(text),
        };
        let action = match pod.action {
            Action::Keep(why) => Stored::Keep(reason(why)),
            Action::Sysctl(why) => Stored::Sysctl(reason(why)),
            Action::SysctlUntold => Stored::Untold,
            Action::Move(moves, why) => Stored::Move(moves, reason(why)),
        };
        PodRecord { at: pod.at, site: pod.site, action }
    }

    pub fn pod(&self, record: PodRecord) -> io::Result<Pod> {
        let why = |reason: Reason| match reason {
            Reason::Known(n) => self.texts.get(n).map(|&text| Cow::Borrowed(text)).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, format!("a pod decision gives unknown reason {n}"))
            }),
            Reason::Text(text) => Ok(Cow::Owned(text)),
        };
        let action = match record.action {
            Stored::Keep(reason) => Action::Keep(why(reason)?),
            Stored::Sysctl(reason) => Action::Sysctl(why(reason)?),
            Stored::Untold => Action::SysctlUntold,
            Stored::Move(moves, reason) => Action::Move(moves, why(reason)?),
        };
        Ok(Pod { at: record.at, site: record.site, action })
    }
}

/// A Service's port number `port`, whose target moved to `new`.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetRecord {
    pub at: At,
    pub port: usize,
    pub new: u64,
}

/// What both have: where they go.
pub trait Placed {
    fn at(&self) -> At;
}

impl Placed for PodRecord {
    fn at(&self) -> At {
        self.at
    }
}

impl Placed for TargetRecord {
    fn at(&self) -> At {
        self.at
    }
}

// An action is a tag, then its moves (as pairs), then its reason.
const KEEP: u64 = 0;
const SYSCTL: u64 = 1;
const UNTOLD: u64 = 2;
const MOVE: u64 = 3;

/// A known reason is its number times two; a text is 1, then the text.
fn put_reason(out: &mut Vec<u8>, reason: &Reason) {
    match reason {
        Reason::Known(n) => put::usize(out, n << 1),
        Reason::Text(text) => {
            put::u64(out, 1);
            put::str(out, text);
        }
    }
}

fn take_reason(bytes: &mut Take) -> io::Result<Reason> {
    match bytes.usize()? {
        1 => Ok(Reason::Text(bytes.str()?.to_string())),
        n if n & 1 == 0 => Ok(Reason::Known(n >> 1)),
        n => Err(io::Error::new(io::ErrorKind::InvalidData, format!("a pod decision's reason of unknown kind {n}"))),
    }
}

impl Record for PodRecord {
    fn put(&self, out: &mut Vec<u8>) {
        put_at(out, self.at);
        put::usize(out, self.site);
        let reason = match &self.action {
            Stored::Keep(reason) => (KEEP, reason),
            Stored::Sysctl(reason) => (SYSCTL, reason),
            Stored::Untold => return put::u64(out, UNTOLD),
            Stored::Move(moves, reason) => {
                put::u64(out, MOVE);
                put_pairs(out, moves);
                return put_reason(out, reason);
            }
        };
        put::u64(out, reason.0);
        put_reason(out, reason.1);
    }

    fn take(bytes: &mut Take) -> io::Result<PodRecord> {
        let (at, site) = (take_at(bytes)?, bytes.usize()?);
        let action = match bytes.u64()? {
            KEEP => Stored::Keep(take_reason(bytes)?),
            SYSCTL => Stored::Sysctl(take_reason(bytes)?),
            UNTOLD => Stored::Untold,
            MOVE => Stored::Move(take_pairs(bytes)?, take_reason(bytes)?),
            tag => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("a pod decision of unknown kind {tag}"),
                ));
            }
        };
        Ok(PodRecord { at, site, action })
    }
}

impl Record for TargetRecord {
    fn put(&self, out: &mut Vec<u8>) {
        put_at(out, self.at);
        put::usize(out, self.port);
        put::u64(out, self.new);
    }

    fn take(bytes: &mut Take) -> io::Result<TargetRecord> {
        Ok(TargetRecord { at: take_at(bytes)?, port: bytes.usize()?, new: bytes.u64()? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_decision_and_a_target_round_trip() {
        let at = At { doc: (3 << 40) | (70_000 << 8) | 199, resource: 12 };
        let actions = [
            Action::Keep("the pod is left unchanged".into()),
            Action::Sysctl(format!("Service {} also selects pods that keep port 80", "wé").into()),
            Action::SysctlUntold,
            Action::Move(vec![(80, 8080), (443, 8443)].into(), "--ports move".into()),
            Action::Move(Box::new([]), String::new().into()),
            Action::Keep("the pod is left unchanged".into()),
        ];
        let mut reasons = Reasons::default();
        for action in actions {
            let borrowed = matches!(&action, Action::Keep(Cow::Borrowed(_)) | Action::Move(_, Cow::Borrowed(_)));
            let pod = Pod { at, site: 300, action };
            let mut out = Vec::new();
            reasons.record(pod.clone()).put(&mut out);
            let back = reasons.pod(PodRecord::take(&mut Take::new(&out)).expect("read back")).expect("known");
            assert_eq!(back, pod);
            let back_borrowed =
                matches!(&back.action, Action::Keep(Cow::Borrowed(_)) | Action::Move(_, Cow::Borrowed(_)));
            assert_eq!(back_borrowed, borrowed, "{pod:?}: borrowed reasons come back borrowed");
            assert!(PodRecord::take(&mut Take::new(&out[..out.len() - 1])).is_err(), "cut short");
        }
        assert_eq!(reasons.texts, ["the pod is left unchanged", "--ports move"], "each text numbered once");
        let unknown = PodRecord { at, site: 0, action: Stored::Keep(Reason::Known(2)) };
        assert!(reasons.pod(unknown).is_err(), "a number no reason has");
        let target = TargetRecord { at, port: 2, new: 8443 };
        let mut out = Vec::new();
        target.put(&mut out);
        assert_eq!(TargetRecord::take(&mut Take::new(&out)).expect("read back"), target);
    }
}
