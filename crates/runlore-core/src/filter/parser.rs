//! Parser of the filter language (to be written).

use super::ast::{Expr, OrderKey};
use crate::error::{Error, Result};

pub fn parse_filter(text: &str) -> Result<Option<Expr>> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    Err(Error::invalid("filter parsing is not written yet"))
}

pub fn parse_order_key(_text: &str) -> Result<OrderKey> {
    Err(Error::invalid("order_by parsing is not written yet"))
}

pub fn parse_order_by<S: AsRef<str>>(keys: &[S]) -> Result<Vec<OrderKey>> {
    keys.iter().map(|k| parse_order_key(k.as_ref())).collect()
}
