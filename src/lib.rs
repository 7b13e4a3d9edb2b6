//! harden: make Kubernetes manifests pass Pod Security "restricted" without
//! breaking the workloads, editing the source text losslessly.
//!
//! The pipeline, one module per stage (see ARCHITECTURE.md):
//! `read` → `yaml` (strict parse) → `plan` (rules) → `apply` (text edits)
//! → `verify` (re-parse) → `write`.

pub mod yaml;
pub mod apply;
