//! Renderers: plain data in, text out through `impl Write`. Nothing here
//! computes statistics or touches the store.

pub mod agree;
pub mod endorse;
pub mod eval;
pub mod fmt;
pub mod info;
pub mod output;
pub mod page;
pub mod paper;
pub mod rq;
pub mod stats;
pub mod study;
pub mod svg;
pub mod table;
