//! stackmine: turn a Stack Exchange data dump into an answered research
//! question. See ARCHITECTURE.md for a tour of the modules.
//!
//! The pipeline stages are modules: [`dump`] reads dump XML, [`ingest`] fills
//! the [`store`], [`analyze`] computes statistics, [`report`] renders them.
//! [`study`] reads the study file that configures all of them;
//! [`workspace`] opens a study folder once for every stage, and
//! [`pipeline`] composes the stages into the main job (`stackmine run`).

pub mod analyze;
pub mod classify;
pub mod dump;
pub mod endorse;
pub mod estimate;
pub mod export;
pub mod ingest;
pub mod label;
pub mod limits;
pub mod pipeline;
pub mod post;
pub mod report;
pub mod sample;
pub mod serve;
pub mod store;
pub mod study;
pub mod text;
pub mod workspace;

pub use post::PostKey;
