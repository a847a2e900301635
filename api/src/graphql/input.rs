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

/// [`patch`] of a value held as it is, such as a number.
pub fn patch_value<R, T>(
    raw: MaybeUndefined<R>,
    field: &str,
    parse: impl FnOnce(R, &str) -> AppResult<T>,
) -> AppResult<Patch<T>> {
    Ok(match raw {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(raw) => Patch::Set(parse(raw, field)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Days, Sku};

    #[test]
    fn an_optional_value_is_parsed_only_when_given_and_a_refusal_names_the_field() {
        assert_eq!(optional(None, "sku", Sku::parse).ok(), Some(None));
        let sku = optional(Some("ab-1"), "sku", Sku::parse).expect("valid");
        assert_eq!(sku.map(|sku| sku.to_string()).as_deref(), Some("AB-1"));
        let err = optional(Some("a b"), "sku", Sku::parse).expect_err("invalid");
        assert_eq!(err.bad_input_field(), Some("sku"));
    }

    #[test]
    fn a_patch_keeps_clears_or_sets_a_parsed_value() {
        let keep: MaybeUndefined<String> = MaybeUndefined::Undefined;
        assert_eq!(patch(&keep, "sku", Sku::parse).ok(), Some(Patch::Keep));
        let clear: MaybeUndefined<String> = MaybeUndefined::Null;
        assert_eq!(patch(&clear, "sku", Sku::parse).ok(), Some(Patch::Clear));
        let set = MaybeUndefined::Value("x1".to_owned());
        let parsed = patch(&set, "sku", Sku::parse).expect("valid");
        assert_eq!(parsed, Patch::Set(Sku::parse("X1", "sku").expect("valid")));
        let bad = MaybeUndefined::Value("a b".to_owned());
        let err = patch(&bad, "sku", Sku::parse).expect_err("invalid");
        assert_eq!(err.bad_input_field(), Some("sku"));
    }

    #[test]
    fn a_patch_of_a_number_keeps_clears_or_sets_it() {
        let days = |raw| patch_value(raw, "minDays", Days::parse);
        assert_eq!(days(MaybeUndefined::Undefined).ok(), Some(Patch::Keep));
        assert_eq!(days(MaybeUndefined::Null).ok(), Some(Patch::Clear));
        let set = days(MaybeUndefined::Value(3)).expect("valid");
        assert_eq!(set, Patch::Set(Days::parse(3, "minDays").expect("valid")));
        let err = days(MaybeUndefined::Value(-1)).expect_err("negative");
        assert_eq!(err.bad_input_field(), Some("minDays"));
    }
}
