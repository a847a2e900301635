//! Product options (Size: S, M, L) and the combination of values each variant stands for.
//!
//! A product's options are stored as written by its admin; a variant's combination is
//! stored in the product's option order and spelling, so that two equal combinations are
//! equal strings (a unique index over a product's active variants relies on it). Names
//! and values are matched ignoring case, so "size"/"m" finds "Size"/"M".

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::text::Name;
use crate::error::{AppError, Refusal};

/// The most options one product may have.
pub const MAX_OPTIONS: usize = 3;
/// The most values one option may have.
pub const MAX_VALUES: usize = 100;

/// The title of the one variant of a product without options.
pub const DEFAULT_VARIANT_TITLE: &str = "Default";

/// An option's name or one of its values: 1 to 50 characters.
type Label = Name<50>;

/// One option of a product and the values its variants choose from, in display order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductOption {
    pub name: String,
    pub values: Vec<String>,
}

/// A product's options: at most [`MAX_OPTIONS`], each with 1 to [`MAX_VALUES`] values;
/// names unique within the product and values within their option, ignoring case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProductOptions(Vec<ProductOption>);

fn key(label: &str) -> String {
    label.to_lowercase()
}

/// Whether `labels` holds no label twice, ignoring case.
fn distinct<'a>(labels: impl IntoIterator<Item = &'a str>) -> bool {
    let mut seen = HashSet::new();
    labels.into_iter().all(|label| seen.insert(key(label)))
}

impl ProductOptions {
    /// Parses options as a client gives them: `(name, values)` in display order.
    /// `field` is the input they came in, for the error.
    pub fn parse(raw: &[(String, Vec<String>)], field: &str) -> Result<Self, AppError> {
        if raw.len() > MAX_OPTIONS {
            return Err(AppError::bad_input(
                field,
                format!("a product has at most {MAX_OPTIONS} options"),
            ));
        }
        let options = raw
            .iter()
            .map(|(name, values)| {
                let name = Label::parse(name, field)?.into_string();
                if values.is_empty() || values.len() > MAX_VALUES {
                    return Err(AppError::bad_input(
                        field,
                        format!("option {name:?} must have 1 to {MAX_VALUES} values"),
                    ));
                }
                let values = values
                    .iter()
                    .map(|value| Label::parse(value, field).map(Label::into_string))
                    .collect::<Result<Vec<_>, _>>()?;
                if !distinct(values.iter().map(String::as_str)) {
                    return Err(AppError::bad_input(
                        field,
                        format!("option {name:?} lists a value twice"),
                    ));
                }
                Ok(ProductOption { name, values })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !distinct(options.iter().map(|option| option.name.as_str())) {
            return Err(AppError::bad_input(field, "two options have the same name"));
        }
        Ok(Self(options))
    }

    /// The options as a product row holds them. A row only ever holds what
    /// [`ProductOptions::to_stored`] wrote.
    pub fn from_stored(stored: &str) -> Self {
        Self(serde_json::from_str(stored).unwrap_or_default())
    }

    pub fn to_stored(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".into())
    }

    pub fn as_slice(&self) -> &[ProductOption] {
        &self.0
    }

    /// The combination `chosen` names: exactly one value of each option, found ignoring
    /// case, in the options' order and spelling.
    pub fn select(&self, chosen: &[SelectedOption]) -> Result<Selection, Refusal> {
        if let Some(unknown) = chosen.iter().find(|pick| self.option(&pick.name).is_none()) {
            return Err(Refusal::OptionsMismatch(format!(
                "{:?} is not an option of this product",
                unknown.name
            )));
        }
        let mut selection = Vec::with_capacity(self.0.len());
        for option in &self.0 {
            let mut picks = chosen
                .iter()
                .filter(|pick| key(&pick.name) == key(&option.name));
            let (Some(pick), None) = (picks.next(), picks.next()) else {
                return Err(Refusal::OptionsMismatch(format!(
                    "give exactly one value of {:?}",
                    option.name
                )));
            };
            let Some(value) = option.value(&pick.value) else {
                return Err(Refusal::OptionsMismatch(format!(
                    "{:?} is not a value of {:?}",
                    pick.value, option.name
                )));
            };
            selection.push(SelectedOption {
                name: option.name.clone(),
                value: value.to_owned(),
            });
        }
        Ok(Selection(selection))
    }

    /// What the combinations of a product's active variants become when its options
    /// change from these to `next`. A new option gives every variant its first value; a
    /// removed option is dropped from each. Refused when a variant's value is gone, or
    /// when two variants would end up with the same combination.
    pub fn reshape(
        &self,
        next: &ProductOptions,
        selections: &[Selection],
    ) -> Result<Vec<Selection>, Refusal> {
        let reshaped = selections
            .iter()
            .map(|selection| {
                next.0
                    .iter()
                    .map(|option| {
                        let kept = selection
                            .0
                            .iter()
                            .find(|pick| key(&pick.name) == key(&option.name));
                        let value = match kept {
                            Some(pick) => option.value(&pick.value).ok_or_else(|| {
                                Refusal::OptionValueInUse {
                                    option: option.name.clone(),
                                    value: pick.value.clone(),
                                }
                            })?,
                            None => option.values.first().map_or("", String::as_str),
                        };
                        Ok(SelectedOption {
                            name: option.name.clone(),
                            value: value.to_owned(),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Selection)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut seen = HashSet::new();
        if !reshaped.iter().all(|selection| seen.insert(selection)) {
            return Err(Refusal::OptionsWouldMergeVariants);
        }
        Ok(reshaped)
    }

    fn option(&self, name: &str) -> Option<&ProductOption> {
        self.0.iter().find(|option| key(&option.name) == key(name))
    }
}

impl ProductOption {
    fn value(&self, value: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|known| key(known) == key(value))
            .map(String::as_str)
    }
}

/// One option's value as a variant has it, or as a client names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SelectedOption {
    pub name: String,
    pub value: String,
}

impl SelectedOption {
    /// A client's pick of a value; whether the product has it is for
    /// [`ProductOptions::select`] to say. `field` is the input it came in, for the error.
    pub fn parse(name: &str, value: &str, field: &str) -> Result<Self, AppError> {
        Ok(Self {
            name: Label::parse(name, field)?.into_string(),
            value: Label::parse(value, field)?.into_string(),
        })
    }
}

/// The combination a variant stands for: one value per option of its product, in the
/// product's option order; none for a product without options.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Selection(Vec<SelectedOption>);

impl Selection {
    /// The combination as a variant row holds it. A row only ever holds what
    /// [`Selection::to_stored`] wrote.
    pub fn from_stored(stored: &str) -> Self {
        Self(serde_json::from_str(stored).unwrap_or_default())
    }

    pub fn to_stored(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".into())
    }

    pub fn as_slice(&self) -> &[SelectedOption] {
        &self.0
    }

    /// What customers read: the values joined, "M / Red"; "Default" without options.
    pub fn title(&self) -> String {
        if self.0.is_empty() {
            return DEFAULT_VARIANT_TITLE.into();
        }
        self.0
            .iter()
            .map(|pick| pick.value.as_str())
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(raw: &[(&str, &[&str])]) -> ProductOptions {
        let raw: Vec<(String, Vec<String>)> = raw
            .iter()
            .map(|(name, values)| {
                (
                    (*name).to_owned(),
                    values.iter().map(|v| (*v).to_owned()).collect(),
                )
            })
            .collect();
        ProductOptions::parse(&raw, "options").expect("valid options")
    }

    fn pick(pairs: &[(&str, &str)]) -> Vec<SelectedOption> {
        pairs
            .iter()
            .map(|(name, value)| SelectedOption {
                name: (*name).into(),
                value: (*value).into(),
            })
            .collect()
    }

    fn field_of(error: AppError) -> String {
        match error {
            AppError::BadUserInput { field, .. } => field,
            other => panic!("expected BAD_USER_INPUT, got {other:?}"),
        }
    }

    #[test]
    fn options_are_trimmed_and_kept_in_order() {
        let parsed = options(&[(" Size ", &["S", " M"]), ("Colour", &["Red"])]);

        assert_eq!(
            parsed.as_slice(),
            &[
                ProductOption {
                    name: "Size".into(),
                    values: vec!["S".into(), "M".into()]
                },
                ProductOption {
                    name: "Colour".into(),
                    values: vec!["Red".into()]
                },
            ]
        );
        assert_eq!(ProductOptions::from_stored(&parsed.to_stored()), parsed);
    }

    #[test]
    fn malformed_options_are_refused_on_the_field() {
        let many_values: Vec<String> = (0..=MAX_VALUES).map(|i| i.to_string()).collect();
        let cases: Vec<Vec<(String, Vec<String>)>> = vec![
            (0..=MAX_OPTIONS)
                .map(|i| (format!("o{i}"), vec!["x".into()]))
                .collect(),
            vec![("Size".into(), vec![])],
            vec![("Size".into(), many_values)],
            vec![("Size".into(), vec!["M".into(), "m".into()])],
            vec![
                ("Size".into(), vec!["M".into()]),
                ("size".into(), vec!["L".into()]),
            ],
            vec![("".into(), vec!["M".into()])],
            vec![("Size".into(), vec![" ".into()])],
            vec![("x".repeat(51), vec!["M".into()])],
        ];

        for raw in cases {
            let error = ProductOptions::parse(&raw, "options").expect_err("refused");
            assert_eq!(field_of(error), "options", "{raw:?}");
        }
    }

    #[test]
    fn a_selection_takes_the_products_order_and_spelling() {
        let product = options(&[("Size", &["S", "M"]), ("Colour", &["Red", "Blue"])]);

        let selection = product
            .select(&pick(&[("colour", "blue"), ("SIZE", "m")]))
            .expect("valid");

        assert_eq!(
            selection.as_slice(),
            pick(&[("Size", "M"), ("Colour", "Blue")])
        );
        assert_eq!(selection.title(), "M / Blue");
        assert_eq!(Selection::from_stored(&selection.to_stored()), selection);
    }

    #[test]
    fn a_selection_names_every_option_once_with_a_known_value() {
        let product = options(&[("Size", &["S", "M"]), ("Colour", &["Red"])]);

        for chosen in [
            pick(&[("Size", "S")]),
            pick(&[("Size", "S"), ("Colour", "Red"), ("Fit", "Slim")]),
            pick(&[("Size", "S"), ("size", "M"), ("Colour", "Red")]),
            pick(&[("Size", "XL"), ("Colour", "Red")]),
        ] {
            assert!(
                matches!(product.select(&chosen), Err(Refusal::OptionsMismatch(_))),
                "{chosen:?}"
            );
        }
    }

    #[test]
    fn a_product_without_options_has_one_default_combination() {
        let selection = ProductOptions::default().select(&[]).expect("valid");

        assert_eq!(selection.title(), "Default");
        assert_eq!(selection.to_stored(), "[]");
    }

    #[test]
    fn a_new_option_gives_every_variant_its_first_value() {
        let before = options(&[("Size", &["S", "M"])]);
        let after = options(&[("Size", &["S", "M", "L"]), ("Colour", &["Red", "Blue"])]);
        let variants = [
            before.select(&pick(&[("Size", "S")])).expect("valid"),
            before.select(&pick(&[("Size", "M")])).expect("valid"),
        ];

        let reshaped = before.reshape(&after, &variants).expect("allowed");

        let titles: Vec<String> = reshaped.iter().map(Selection::title).collect();
        assert_eq!(titles, ["S / Red", "M / Red"]);
    }

    #[test]
    fn the_lone_default_variant_takes_the_first_values() {
        let after = options(&[("Size", &["S", "M"])]);

        let reshaped = ProductOptions::default()
            .reshape(&after, &[Selection::default()])
            .expect("allowed");

        assert_eq!(reshaped[0].title(), "S");
    }

    #[test]
    fn a_value_in_use_cannot_be_removed() {
        let before = options(&[("Size", &["S", "M"])]);
        let after = options(&[("Size", &["S"])]);
        let variants = [before.select(&pick(&[("Size", "M")])).expect("valid")];

        assert_eq!(
            before.reshape(&after, &variants),
            Err(Refusal::OptionValueInUse {
                option: "Size".into(),
                value: "M".into()
            })
        );
    }

    #[test]
    fn removing_an_option_may_not_merge_two_variants() {
        let before = options(&[("Size", &["S"]), ("Colour", &["Red", "Blue"])]);
        let variants = [
            before
                .select(&pick(&[("Size", "S"), ("Colour", "Red")]))
                .expect("valid"),
            before
                .select(&pick(&[("Size", "S"), ("Colour", "Blue")]))
                .expect("valid"),
        ];

        let without_colour = options(&[("Size", &["S"])]);
        assert_eq!(
            before.reshape(&without_colour, &variants),
            Err(Refusal::OptionsWouldMergeVariants)
        );
        let without_size = options(&[("Colour", &["Red", "Blue"])]);
        let reshaped = before.reshape(&without_size, &variants).expect("allowed");
        let titles: Vec<String> = reshaped.iter().map(Selection::title).collect();
        assert_eq!(titles, ["Red", "Blue"]);
    }

    #[test]
    fn renaming_by_case_and_reordering_keeps_the_variants() {
        let before = options(&[("Size", &["s", "m"]), ("Colour", &["red"])]);
        let after = options(&[("colour", &["Red"]), ("SIZE", &["M", "S"])]);
        let variants = [before
            .select(&pick(&[("Size", "m"), ("Colour", "red")]))
            .expect("valid")];

        let reshaped = before.reshape(&after, &variants).expect("allowed");

        assert_eq!(
            reshaped[0].as_slice(),
            pick(&[("colour", "Red"), ("SIZE", "M")])
        );
    }
}
