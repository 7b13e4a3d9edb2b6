//! harden as a KRM function (kpt `fn eval`/`fn render`, kustomize
//! `transformers:`): when standard input is one `ResourceList`
//! (`config.kubernetes.io/v1` or `v1beta1`), harden its `items` with the
//! same lossless edits as any other input, and append `results` (one entry
//! per change, note, blocker and skipped workload; errors first, then
//! warnings, then info) to the ResourceList as a
//! text edit.
//!
//! What stays byte-identical: everything the plan does not change, so every
//! `config.kubernetes.io/*` and `internal.config.kubernetes.io/*` annotation
//! (kpt writes files back by them), every comment, the order of `items`,
//! and the `functionConfig` (it is not an item: the plan stage only walks
//! `items`). Items marked `config.kubernetes.io/local-config` are left
//! alone by the plan stage.
//!
//! Settings: the `functionConfig` (see [`config`]) wins over the command
//! line and the environment (`KUBE_VERSION`); whatever it leaves out comes
//! from them. With `fail-on-blockers`, blockers are `error` results and the
//! function fails (exit 1), which makes kpt and kustomize stop.

pub mod config;
pub mod results;

use crate::apply;
use crate::pipeline::images::{self, ImageSettings};
use crate::pipeline::{self, Options, SourceOutcome};
use crate::plan::exceptions::Exception;
use crate::plan::{Counts, PlanOptions};
use crate::profile::Profile;
use crate::pss::Version;
use crate::read::Source;
use crate::verify::{VerifyError, verify_document};
use crate::write::count;
use crate::yaml::{Semantic, parse_stream};
use serde_json::Value;

/// The ResourceList API versions of the KRM functions specification.
pub const API_VERSIONS: [&str; 2] = ["config.kubernetes.io/v1", "config.kubernetes.io/v1beta1"];

/// What a KRM function run produced.
#[derive(Debug)]
pub struct KrmRun {
    /// The output ResourceList (in `output`) and the plan of its one document.
    pub outcome: SourceOutcome,
    /// The `results` entries appended to it.
    pub results: Vec<Value>,
    /// 0, or 1 when the config asked to fail on blockers and there were some.
    pub exit_code: u8,
    /// One line for stderr.
    pub summary: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad functionConfig or ResourceList: exit 2.
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Pipeline(#[from] pipeline::Error),
    /// The results could not be written or read back: a harden bug, exit 3.
    #[error("<stdin>: the results could not be added to the ResourceList: {0} (internal error, please report)")]
    Results(String),
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

impl Error {
    /// Whether this is a harden bug (exit 3) rather than bad input (exit 2).
    pub fn is_internal(&self) -> bool {
        match self {
            Error::Input(_) => false,
            Error::Pipeline(e) => matches!(e, pipeline::Error::Verify(_)),
            Error::Results(_) | Error::Verify(_) => true,
        }
    }
}

/// Run harden as a KRM function if `src` is a ResourceList; `None` if it is
/// anything else (including input that does not parse: the ordinary
/// pipeline reports that). `opts` and `resolve` are the command line's
/// settings, which the `functionConfig` overrides (`resolveImages` reads
/// the items' images from their registries first: a warning result for
/// each that cannot be read).
pub fn run(src: &Source, opts: &Options, resolve: &ImageSettings) -> Result<Option<KrmRun>, Error> {
    let Some(list) = resource_list(&src.text, opts) else { return Ok(None) };
    let cfg = config::function_config(list.get("functionConfig")).map_err(Error::Input)?;
    let profile = cfg.profile.as_deref().map(Profile::load).transpose().map_err(Error::Input)?;
    let kinds = profile.as_ref().map(Profile::kinds);
    let (version, clamped) = match &cfg.pss_version {
        Some(asked) => {
            let (v, clamped) =
                Version::parse(asked).map_err(|e| Error::Input(format!("functionConfig pss-version: {e}")))?;
            (v, clamped.then(|| v.clamped_note(asked)))
        }
        None => (opts.plan.version, None),
    };
    let exceptions: Vec<Exception> = opts.plan.exceptions.iter().chain(&cfg.exceptions).cloned().collect();
    // The functionConfig's rows come first: what it sets wins.
    let images = opts.plan.images.with_user_rows(cfg.image_rows("functionConfig").map_err(Error::Input)?);
    // Fields PlanOptions gains later come from the command line.
    #[allow(clippy::needless_update)]
    let plan = PlanOptions {
        profile: profile.as_ref().unwrap_or(opts.plan.profile),
        kinds: kinds.as_deref().unwrap_or(opts.plan.kinds),
        version,
        partial: cfg.partial.unwrap_or(opts.plan.partial),
        exceptions: &exceptions,
        images: &images,
        ..opts.plan
    };
    let fn_opts = Options { plan, ports: cfg.ports.or(opts.ports), limits: opts.limits.clone() };
    let resolving = ImageSettings { mode: cfg.resolve_images.unwrap_or(resolve.mode), ..resolve.clone() };
    let resolved = images::resolve_sources(std::slice::from_ref(src), &fn_opts, &[], &resolving)?;
    let fn_opts = match &resolved {
        Some(resolved) => Options {
            plan: PlanOptions { images: &resolved.images, ..fn_opts.plan },
            ports: fn_opts.ports,
            limits: fn_opts.limits,
        },
        None => fn_opts,
    };
    let mut outcome = pipeline::harden_source(src, &fn_opts)?;
    let fail = cfg.fail_on_blockers.unwrap_or(false);
    let mut results: Vec<Value> = clamped.iter().map(|m| results::unattached("warning", m)).collect();
    results.extend(resolved.iter().flat_map(|r| r.warnings()).map(|w| results::unattached("warning", &w)));
    let mut counts = Counts::default();
    let mut items = 0;
    for d in &outcome.docs {
        items = d.after.get("items").and_then(Value::as_array).map_or(0, Vec::len);
        if let Some(why) = &d.refused {
            results.push(results::unattached("warning", &format!("the items were left unchanged: {why}")));
        }
        counts.add(&d.plan);
        for r in &d.plan.resources {
            results.extend(results::of_resource(r, &d.before, &d.after, fail));
        }
    }
    results::by_severity(&mut results);
    if !results.is_empty() {
        outcome.output = with_results(&outcome.output, &results, &fn_opts)?;
        // One piece again, that lines up with the new output.
        let json = outcome.pieces.iter().any(|p| p.json);
        let (old_len, new_len, docs) = (src.text.len(), outcome.output.len(), outcome.docs.len());
        outcome.pieces = vec![crate::pipeline::Piece { old_len, new_len, docs, json }];
    }
    let exit_code = u8::from(fail && counts.blockers > 0);
    let Counts { workloads_hardened: workloads, changes, blockers, opted_out } = counts;
    let summary = format!(
        "ResourceList: {}, {} hardened, {}, {}{}{}",
        count(items, "item"),
        count(workloads, "workload"),
        count(changes, "change"),
        count(blockers, "blocker"),
        if opted_out > 0 {
            format!("; {} skipped (opted out), still violating", count(opted_out, "resource"))
        } else {
            String::new()
        },
        if exit_code == 1 { " (fail-on-blockers: failing)" } else { "" }
    );
    Ok(Some(KrmRun { outcome, results, exit_code, summary }))
}

/// The meaning of `text` if it is exactly one ResourceList document.
fn resource_list(text: &str, opts: &Options) -> Option<Value> {
    if !text.contains("ResourceList") {
        return None;
    }
    let docs = parse_stream(text, &opts.limits).ok()?;
    let [doc] = docs.as_slice() else { return None };
    let value = Semantic::new(&doc.root, text, opts.limits.max_alias_nodes).value(&doc.root).ok()?;
    let is_list = value.get("kind").and_then(Value::as_str) == Some("ResourceList")
        && value.get("apiVersion").and_then(Value::as_str).is_some_and(|v| API_VERSIONS.contains(&v));
    is_list.then_some(value)
}

/// `text` (one ResourceList document) with `results` appended: the one text
/// edit goes through the apply stage and is verified like any other.
fn with_results(text: &str, new: &[Value], opts: &Options) -> Result<String, Error> {
    let docs = parse_stream(text, &opts.limits).map_err(|e| Error::Results(e.to_string()))?;
    let [doc] = docs.as_slice() else { return Err(Error::Results(format!("{} documents", docs.len()))) };
    let before = Semantic::new(&doc.root, text, opts.limits.max_alias_nodes)
        .value(&doc.root)
        .map_err(|e| Error::Results(e.to_string()))?;
    let mut planned = before.clone();
    let Value::Object(map) = &mut planned else { return Err(Error::Results("not a mapping".to_string())) };
    match map.get_mut("results") {
        Some(Value::Array(existing)) => existing.extend(new.iter().cloned()),
        None | Some(Value::Null) => {
            map.insert("results".to_string(), Value::Array(new.to_vec()));
        }
        Some(_) => return Err(Error::Input("<stdin>: the ResourceList's results is not a list.".to_string())),
    }
    let edits = apply::plan_edits(text, doc, &planned, opts.limits.max_alias_nodes)
        .map_err(|e| Error::Results(e.to_string()))?;
    let edited = apply::splice(text, &edits);
    verify_document("<stdin>", 1, &edited, &planned, &opts.limits)?;
    Ok(edited)
}
