//! Pure statistics over plain structs: no I/O, no printing.

pub mod causes;
pub mod confusion;
pub mod findings;
pub mod inference;
pub mod ppi;
pub mod quantile;
pub mod stats;
pub mod survival;
pub mod trend;
