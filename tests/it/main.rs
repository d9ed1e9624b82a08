//! The integration tests, one binary (linked once): each module is one
//! part of the tool, run through the real binary and the real store.

#[path = "util/chrome.rs"]
mod chrome;
mod util;

mod browser;
mod browser_root_causes;
mod classify;
mod encoder;
mod encoder_fast;
mod endorse;
mod estimate;
mod export;
mod hostile_ingest;
mod hostile_model;
mod hostile_serve;
mod hostile_store;
mod hybrid;
mod ingest;
mod invariants;
mod labels;
mod report;
mod root_causes;
mod serve;
mod spark;
mod static_encoder;
mod survival;
