//! Recursive-descent parser for Kong's expressions language.
//!
//! Grammar (same as Kong's `atc_grammar.pest`):
//!
//! ```text
//! matcher    = expression EOI
//! expression = term (("&&" | "||") term)*      -- `||` binds tighter than `&&`
//! term       = predicate | "!"? "(" expression ")"
//! predicate  = lhs binary_op literal
//! lhs        = ident "(" lhs ")" | ident       -- transformation functions
//! ```
//!
//! Note the precedence: as in Kong, `a && b || c` parses as `a && (b || c)`.
//! Nesting deeper than [`MAX_DEPTH`] is rejected instead of risking a stack
//! overflow. The parser never panics.

use super::ast::{Expr, RawPredicate, Transform};
use super::lexer::Lexer;
use super::ExprError;

/// Maximum nesting of parentheses / transformation functions.
pub const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    lx: Lexer<'a>,
    depth: usize,
}

/// Parse an expression without type checking.
pub fn parse(src: &str) -> Result<Expr<RawPredicate>, ExprError> {
    let mut p = Parser {
        lx: Lexer::new(src),
        depth: 0,
    };
    p.lx.skip_ws();
    if p.lx.at_end() {
        return Err(ExprError::new(0, "empty expression".to_string()));
    }
    let e = p.expression()?;
    p.lx.skip_ws();
    if !p.lx.at_end() {
        return Err(ExprError::new(
            p.lx.pos(),
            "expected `&&`, `||`, `)` or end of input".to_string(),
        ));
    }
    Ok(e)
}

impl Parser<'_> {
    fn expression(&mut self) -> Result<Expr<RawPredicate>, ExprError> {
        let mut ands = vec![self.or_group()?];
        loop {
            self.lx.skip_ws();
            if self.lx.eat("&&") {
                ands.push(self.or_group()?);
            } else {
                break;
            }
        }
        Ok(collapse(ands, Expr::And))
    }

    fn or_group(&mut self) -> Result<Expr<RawPredicate>, ExprError> {
        let mut ors = vec![self.term()?];
        loop {
            self.lx.skip_ws();
            if self.lx.eat("||") {
                ors.push(self.term()?);
            } else {
                break;
            }
        }
        Ok(collapse(ors, Expr::Or))
    }

    fn enter(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::new(
                self.lx.pos(),
                format!("expression nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn term(&mut self) -> Result<Expr<RawPredicate>, ExprError> {
        self.lx.skip_ws();
        match self.lx.peek() {
            Some(b'!') | Some(b'(') => {
                let not = self.lx.eat("!");
                self.lx.skip_ws();
                if !self.lx.eat("(") {
                    return Err(ExprError::new(
                        self.lx.pos(),
                        "expected `(` after `!` (negation applies to a parenthesised expression)"
                            .to_string(),
                    ));
                }
                self.enter()?;
                let inner = self.expression()?;
                self.lx.skip_ws();
                if !self.lx.eat(")") {
                    return Err(ExprError::new(
                        self.lx.pos(),
                        "expected `)`, `&&` or `||`".to_string(),
                    ));
                }
                self.depth -= 1;
                Ok(if not {
                    Expr::Not(Box::new(inner))
                } else {
                    inner
                })
            }
            _ => self.predicate(),
        }
    }

    fn predicate(&mut self) -> Result<Expr<RawPredicate>, ExprError> {
        let position = self.lx.pos();
        let (field, transforms) = self.lhs()?;
        let op = self.lx.binary_op().ok_or_else(|| {
            ExprError::new(
                self.lx.pos(),
                "expected an operator (==, !=, ~, ^=, =^, >, >=, <, <=, in, not in, contains)"
                    .to_string(),
            )
        })?;
        self.lx.skip_ws();
        let rhs_position = self.lx.pos();
        let rhs = self.lx.literal()?;
        Ok(Expr::Pred(Box::new(RawPredicate {
            field,
            transforms,
            op,
            rhs,
            position,
            rhs_position,
        })))
    }

    fn lhs(&mut self) -> Result<(String, Vec<Transform>), ExprError> {
        self.lx.skip_ws();
        let start = self.lx.pos();
        let name = self.lx.ident().ok_or_else(|| {
            ExprError::new(start, "expected a field name, `(` or `!(`".to_string())
        })?;
        self.lx.skip_ws();
        if !self.lx.eat("(") {
            return Ok((name.to_string(), Vec::new()));
        }
        let t = match name {
            "lower" => Transform::Lower,
            "any" => Transform::Any,
            other => {
                return Err(ExprError::new(
                    start,
                    format!("unknown transformation function `{other}` (expected lower or any)"),
                ))
            }
        };
        self.enter()?;
        let (field, mut transforms) = self.lhs()?;
        self.lx.skip_ws();
        if !self.lx.eat(")") {
            return Err(ExprError::new(
                self.lx.pos(),
                format!("expected `)` closing `{name}(`"),
            ));
        }
        self.depth -= 1;
        transforms.push(t);
        Ok((field, transforms))
    }
}

fn collapse<P>(mut v: Vec<Expr<P>>, f: fn(Vec<Expr<P>>) -> Expr<P>) -> Expr<P> {
    if v.len() == 1 {
        if let Some(e) = v.pop() {
            return e;
        }
    }
    f(v)
}
