//! Kong's expressions language: scanner, parser, type checker, evaluator.

pub mod ast;
pub mod check;
pub mod eval;
pub(crate) mod lexer;
pub mod parser;

use std::fmt;

pub use ast::{Expr, Field, Op, Predicate};
pub use eval::{eval, eval_recording, precompile, Recorder};
pub use parser::parse;

/// A syntax or type error with the byte offset where it was detected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    /// Byte offset in the expression source.
    pub position: usize,
    /// What is wrong.
    pub message: String,
}

impl ExprError {
    pub(crate) fn new(position: usize, message: String) -> Self {
        ExprError { position, message }
    }
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at position {}: {}", self.position, self.message)
    }
}

impl std::error::Error for ExprError {}

/// Parse and type check an expression.
pub fn compile(src: &str) -> Result<Expr<Predicate>, ExprError> {
    check::check(parse(src)?)
}
