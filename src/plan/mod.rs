//! The plan stage: for each document, find its resources (a `List`'s items
//! too) and their pod specs, run the rules, then check the planned pods
//! with the Pod Security verifier. What the verifier still rejects is a
//! blocker; a pod with blockers keeps its original text unless `--partial`.

pub mod change;
pub mod exceptions;
pub mod pod;
pub mod qos;

use crate::images::ImageTable;
use crate::pointer::Pointer;
use crate::profile::Profile;
use crate::pss::{self, Version};
use crate::rules::RULES;
use crate::workload::{KindRow, PodSite, ResourceId, pod_sites};
use change::{Blocker, Change, Note, OptedOut};
use exceptions::{Exception, Exemptions};
use pod::{Pod, PodPlan};
use serde_json::Value;
use std::collections::HashSet;

/// What a plan is made with: the resolved settings, not what the user typed.
pub struct PlanOptions<'a> {
    pub profile: &'a Profile,
    pub kinds: &'a [KindRow],
    pub version: Version,
    /// Apply the other fixes to pods that have blockers.
    pub partial: bool,
    pub exceptions: &'a [Exception],
    /// What harden knows about images: the user's rows, then the built-in ones.
    pub images: &'a ImageTable,
}

/// The plan for one resource of a document.
#[derive(Clone, Debug, Default)]
pub struct ResourcePlan {
    pub id: ResourceId,
    /// JSON pointer to the resource in its document ("" or `/items/N`).
    pub base: String,
    /// How many pod specs it has (0: not a workload).
    pub pods: usize,
    pub changes: Vec<Change>,
    pub notes: Vec<Note>,
    pub blockers: Vec<Blocker>,
    /// Violations the owner opted out of: they stay, and are reported so.
    pub opted_out: Vec<OptedOut>,
    /// Fixes not applied because of blockers.
    pub withheld: usize,
    /// Containers harden expects not to start as hardened (each has a warning note).
    pub will_not_start: usize,
    /// Why the resource was left alone as a whole, if it was.
    pub skipped: Option<String>,
    /// How the owner skipped the port rule for this resource, if they did:
    /// its pods keep their ports as they are (`crate::ports`).
    pub port_rule_skipped: Option<String>,
}

/// The plan for one document.
#[derive(Clone, Debug, Default)]
pub struct DocPlan {
    pub resources: Vec<ResourcePlan>,
}

impl DocPlan {
    pub fn changes(&self) -> impl Iterator<Item = &Change> {
        self.resources.iter().flat_map(|r| r.changes.iter())
    }
}

/// What plans add up to, for summaries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Resources with pod specs that got at least one change.
    pub workloads_hardened: usize,
    pub changes: usize,
    pub blockers: usize,
    /// Resources that still violate where their owner opted out.
    pub opted_out: usize,
}

impl Counts {
    pub fn add(&mut self, plan: &DocPlan) {
        for r in &plan.resources {
            self.workloads_hardened += usize::from(r.pods > 0 && !r.changes.is_empty());
            self.changes += r.changes.len();
            self.blockers += r.blockers.len();
            self.opted_out += usize::from(!r.opted_out.is_empty());
        }
    }
}

/// Plan one document, given its meaning.
pub fn plan_document(doc: &Value, opts: &PlanOptions) -> DocPlan {
    let resources =
        crate::workload::resources(doc).into_iter().map(|(base, id)| plan_resource(doc, base, id, opts)).collect();
    DocPlan { resources }
}

fn plan_resource(doc: &Value, base: String, id: ResourceId, opts: &PlanOptions) -> ResourcePlan {
    let sites = pod_sites(doc, &base, &id, opts.kinds);
    let mut plan = ResourcePlan { id, base, pods: sites.len(), ..Default::default() };
    if sites.is_empty() {
        return plan;
    }
    let resource = doc.at(&plan.base).unwrap_or(&Value::Null);
    let exemptions = Exemptions::of(resource, &plan.id, opts.exceptions);
    let fragment = sites.iter().find_map(|s| doc.at(&s.spec).and_then(incomplete));
    if let Some(why) = exemptions.whole_resource {
        // Opted out, not compliant: what Pod Security rejects stays, and is said.
        if !exemptions.not_deployed && fragment.is_none() {
            for site in &sites {
                let Some(spec) = doc.at(&site.spec) else { continue };
                for violation in violations(doc.at(&site.metadata), spec, opts) {
                    plan.opted_out.push(OptedOut { violation, by: why.clone() });
                }
            }
        }
        plan.skipped = Some(why);
        return plan;
    }
    if let Some(why) = fragment {
        plan.skipped = Some(why);
        return plan;
    }
    let port_rule = crate::rules::unprivileged_port::ID;
    plan.port_rule_skipped = exemptions.rules.contains(port_rule).then(|| exemptions.rule_by(port_rule));
    for site in &sites {
        plan_pod(doc, site, &exemptions, opts, &mut plan);
    }
    plan
}

/// A pod spec with a container that has no image is a fragment (a
/// strategic-merge patch, a kustomize base piece), not a pod: hardening it
/// would add fields to a patch whose target harden cannot see.
fn incomplete(spec: &Value) -> Option<String> {
    pod::CONTAINER_LISTS.iter().find_map(|list| {
        spec.get(*list)?.as_array()?.iter().find(|c| c.get("image").is_none()).map(|c| {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
            format!("container \"{name}\" has no image: this looks like a patch, not a complete workload")
        })
    })
}

fn plan_pod(doc: &Value, site: &PodSite, ex: &Exemptions, opts: &PlanOptions, out: &mut ResourcePlan) {
    let Some(spec) = doc.at(&site.spec) else { return };
    let metadata = doc.at(&site.metadata);
    let exempt = ex.containers(spec);
    let pod = Pod::new(spec, metadata, site, &exempt, opts);
    let mut pp = PodPlan::new(&pod);
    let windows = pod.is_windows();
    for rule in RULES.iter().filter(|_| opts.profile.fixes) {
        if ex.rules.contains(rule.id) || (windows && !rule.windows) {
            continue;
        }
        pp.set_rule(rule.id);
        (rule.plan)(&pod, &mut pp);
    }
    let mut blockers = std::mem::take(&mut pp.blockers);
    for violation in violations(metadata, &pp.planned, opts) {
        match opted_out_by(&violation, ex, &exempt) {
            Some(by) => out.opted_out.push(OptedOut { violation, by }),
            None => blockers.push(violation),
        }
    }
    if !blockers.is_empty() && !opts.partial {
        out.withheld += pp.changes.len();
        pp.changes.clear();
        // The pod keeps its text: nothing was assumed about its images.
        pp.notes.retain(|n| n.rule != crate::rules::unknown_image::ID);
    }
    out.changes.append(&mut pp.changes);
    out.notes.append(&mut pp.notes);
    out.will_not_start += pp.will_not_start;
    out.blockers.extend(blockers);
}

/// What Pod Security rejects in a pod spec, one violation per finding.
fn violations(metadata: Option<&Value>, spec: &Value, opts: &PlanOptions) -> Vec<Blocker> {
    let mut out = Vec::new();
    for result in pss::check_pod(metadata, spec, opts.profile.level, opts.version) {
        let control = format!("PSS {}", result.check);
        let upstream = Some(pss::summarize(std::slice::from_ref(&result)));
        if result.findings.is_empty() {
            out.push(Blocker { container: None, what: result.reason.clone(), control, upstream });
            continue;
        }
        for f in &result.findings {
            let (container, what) = (f.container.clone(), f.what.clone());
            out.push(Blocker { container, what, control: control.clone(), upstream: upstream.clone() });
        }
    }
    out
}

/// How the owner opted out of a violation that remains, if they did: it is
/// in an exempt container, or the rule that fixes it is skipped.
fn opted_out_by(v: &Blocker, ex: &Exemptions, exempt: &HashSet<String>) -> Option<String> {
    if let Some(c) = v.container.as_ref().filter(|c| exempt.contains(*c)) {
        return Some(ex.container_by(c));
    }
    let check = v.control.strip_prefix("PSS ")?;
    crate::rules::fixing(check).filter(|rule| ex.rules.contains(*rule)).map(|rule| ex.rule_by(rule))
}
