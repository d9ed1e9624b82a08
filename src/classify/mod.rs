//! Question classifiers: text steps ([`tokenize`]), features ([`features`]),
//! models ([`linear`], [`keyword`]) and their evaluation ([`eval`]).

pub mod features;
pub mod linear;
pub mod tokenize;
