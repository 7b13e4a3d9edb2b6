//! harden: make Kubernetes manifests pass Pod Security "restricted" without
//! breaking the workloads, editing the source text losslessly.
//!
//! The pipeline, one module per stage (see ARCHITECTURE.md):
//! [`read`] → [`yaml`] (strict parse) → [`plan`] (rules) → [`apply`] (text
//! edits) → [`verify`] (re-parse) → write (in the binary's `output`).

pub mod apply;
pub mod config;
pub mod images;
pub mod in_place;
pub mod krm;
pub mod pipeline;
pub mod plan;
pub mod pointer;
pub mod ports;
pub mod profile;
pub mod pss;
pub mod quantity;
pub mod read;
pub mod registry;
pub mod rules;
pub mod verify;
pub mod workload;
pub mod write;
pub mod yaml;
