//! Each pod's decision: first on its own ([`decide`]), then settled across
//! the Services that select it ([`settle`]). What the run holds in memory
//! for this is one number a pod: which set of moves it makes, if it still
//! moves ([`Movers`]); everything else is read from the stream's index and
//! the kept Services, in order, as often as needed.

use super::index::{Fate, PodEntry};
use super::join::Cursor;
use super::selection::Kept;
use super::sorter::Sorter;
use super::stream_index::StreamIndex;
use super::tape::{Record, Take, Tape, put};
use super::{Action, Strategy, Why, moved};
use std::collections::HashMap;
use std::io;

/// The first decision for a pod, on its own. `headless`: the first
/// headless Service (in stream order) that selects it, if any.
pub fn decide(pod: &PodEntry, strategy: Strategy, headless: Option<&str>) -> Action {
    let movable = match &pod.fate {
        Fate::Movable(movable) => movable,
        Fate::Frozen(why) => return Action::Keep(why.clone()),
    };
    if pod.all_bind {
        return Action::Keep("the container adds NET_BIND_SERVICE, so it can bind the port as non-root".into());
    }
    let sysctl_ok = pod.pod_security_context;
    if let Some(name) = headless {
        return Action::Sysctl(
            format!("the headless Service {name} sends clients to pod IPs and ports directly").into(),
        );
    }
    let reason = match strategy {
        Strategy::Keep => return Action::Keep("--ports keep".into()),
        Strategy::Sysctl if sysctl_ok => return Action::Sysctl("--ports sysctl".into()),
        Strategy::Sysctl => {
            return Action::Keep("this kind rejects pod-level sysctls; --ports sysctl cannot apply".into());
        }
        Strategy::Move => "--ports move",
        Strategy::Auto if !movable.untold => "harden can tell the app its new port",
        // Knative tells the app its port through $PORT itself.
        Strategy::Auto if !sysctl_ok => "the platform passes the port to the app in $PORT",
        Strategy::Auto => return Action::SysctlUntold,
    };
    Action::Move(movable.moves.clone(), reason.into())
}

/// Which pods move, and how: for each pod with a privileged port, the
/// number of its set of moves (0: it does not move). Pods share a handful
/// of sets (80→8080, 443→8443, both), so each is held once.
#[derive(Debug, Default)]
pub struct Movers {
    state: Vec<u32>,
    sets: Vec<Box<[(u64, u64)]>>,
    numbers: HashMap<Box<[(u64, u64)]>, u32>,
}

impl Movers {
    fn push(&mut self, action: &Action) {
        let n = match action {
            Action::Move(moves, _) => match self.numbers.get(moves) {
                Some(&n) => n,
                None => {
                    self.sets.push(moves.clone());
                    let n = self.sets.len() as u32;
                    self.numbers.insert(moves.clone(), n);
                    n
                }
            },
            _ => 0,
        };
        self.state.push(n);
    }

    /// The (old, new) pairs pod `p` moves: none unless it moves.
    pub fn moves(&self, p: u32) -> &[(u64, u64)] {
        match self.state.get(p as usize) {
            Some(&n) if n > 0 => &self.sets[n as usize - 1],
            _ => &[],
        }
    }

    fn stop(&mut self, p: u32) {
        self.state[p as usize] = 0;
    }
}

/// For each pod that a headless Service selects, the first such Service's
/// name, in pod order.
pub fn first_headless(kept: &mut Tape<Kept>, budget: usize) -> io::Result<Tape<Headless>> {
    let mut sorter = Sorter::new(budget);
    for (s, k) in kept.read()?.enumerate() {
        let k = k?;
        if k.service.headless {
            for &pod in &k.pods {
                sorter.push(Headless { pod, service: s, name: k.service.name.to_string() })?;
            }
        }
    }
    let mut out = Tape::new(Some(budget));
    let mut last = None;
    for h in sorter.sorted()? {
        let h = h?;
        if last != Some(h.pod) {
            last = Some(h.pod);
            out.push(&h)?;
        }
    }
    Ok(out)
}

/// Every pod's first decision, on its own, as far as moving goes.
pub fn first(index: &mut StreamIndex, headless: &mut Tape<Headless>, strategy: Strategy) -> io::Result<Movers> {
    let mut movers = Movers::default();
    each_decision(index, headless, strategy, |_, _, action| {
        movers.push(&action);
        Ok(())
    })?;
    Ok(movers)
}

/// Each pod (in stream order) with its number and its first decision.
pub fn each_decision(
    index: &mut StreamIndex,
    headless: &mut Tape<Headless>,
    strategy: Strategy,
    mut f: impl FnMut(u32, PodEntry, Action) -> io::Result<()>,
) -> io::Result<()> {
    let mut headless = Cursor::new(headless.read()?)?;
    for (p, pod) in index.pods.read()?.enumerate() {
        let (p, pod) = (p as u32, pod?);
        let first = headless.take(|h| h.pod <= p)?.pop();
        let action = decide(&pod, strategy, first.as_ref().map(|h| h.name.as_str()));
        f(p, pod, action)?;
    }
    Ok(())
}

/// A Service that selects pods which move a port together with pods that
/// keep it would be split: none of them move (they get the sysctl), and a
/// Service whose pods would get different new numbers likewise. Repeated
/// until nothing changes, since one demotion can split another Service.
/// Returns, sorted by pod, why each pod that no longer moves stopped.
pub fn settle(kept: &mut Tape<Kept>, movers: &mut Movers, budget: usize) -> io::Result<Sorter<Stopped>> {
    let mut stopped = Sorter::new(budget);
    loop {
        let mut changed = false;
        for k in kept.read()? {
            let Kept { service: svc, pods: selected, selects_other } = k?;
            if svc.headless {
                continue;
            }
            for &(_, target) in &svc.targets {
                let new_of = |p: u32| moved(target, movers.moves(p));
                let moving: Vec<u32> = selected.iter().copied().filter(|&p| new_of(p).is_some()).collect();
                let mut numbers: Vec<u64> = moving.iter().filter_map(|&p| new_of(p)).collect();
                numbers.dedup();
                let split = moving.len() < selected.len() || selects_other || numbers.len() > 1;
                if moving.is_empty() || !split {
                    continue;
                }
                for p in moving {
                    let why = format!("Service {} also selects pods that keep port {target}", svc.name);
                    stopped.push(Stopped { pod: p, why })?;
                    movers.stop(p);
                    changed = true;
                }
            }
        }
        if !changed {
            return Ok(stopped);
        }
    }
}

/// The decision of a pod that a split Service stopped from moving.
pub fn stopped_action(pod: &PodEntry, why: String) -> Action {
    let why: Why = why.into();
    if pod.pod_security_context { Action::Sysctl(why) } else { Action::Keep(why) }
}

/// A headless Service that selects a pod.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Headless {
    pub pod: u32,
    service: usize,
    pub name: String,
}

/// A pod that stopped moving, and why (at most one a pod: once stopped it
/// no longer moves).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stopped {
    pub pod: u32,
    pub why: String,
}

impl Record for Headless {
    fn put(&self, out: &mut Vec<u8>) {
        put::u64(out, u64::from(self.pod));
        put::usize(out, self.service);
        put::str(out, &self.name);
    }
    fn take(bytes: &mut Take) -> io::Result<Headless> {
        Ok(Headless { pod: bytes.u32()?, service: bytes.usize()?, name: bytes.str()?.to_string() })
    }
}

impl Record for Stopped {
    fn put(&self, out: &mut Vec<u8>) {
        put::u64(out, u64::from(self.pod));
        put::str(out, &self.why);
    }
    fn take(bytes: &mut Take) -> io::Result<Stopped> {
        Ok(Stopped { pod: bytes.u32()?, why: bytes.str()?.to_string() })
    }
}
