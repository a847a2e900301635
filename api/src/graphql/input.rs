//! Input values into domain values, at the edge: each parse is given the name of the field
//! the value came in, so that a refusal names it.

use std::ops::Deref;

use async_graphql::MaybeUndefined;

use crate::{error::AppResult, service::Patch};

/// `raw` parsed by `parse` as the input `field`, when it was given.
pub fn optional<R, T>(
    raw: Option<R>,
    field: &str,
    parse: impl FnOnce(R, &str) -> AppResult<T>,
) -> AppResult<Option<T>> {
    raw.map(|raw| parse(raw, field)).transpose()
}

/// A change to an optional value: left out keeps it, null clears it, and a value is parsed
/// by `parse` as the input `field`.
pub fn patch<'a, R: Deref, T>(
    raw: &'a MaybeUndefined<R>,
    field: &str,
    parse: impl FnOnce(&'a R::Target, &str) -> AppResult<T>,
) -> AppResult<Patch<T>> {
    Ok(match raw {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(raw) => Patch::Set(parse(raw, field)?),
    })
}
