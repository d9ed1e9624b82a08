//! Text processing: post HTML to plain text (later: tokens, features).

pub mod html;
