//! The one pricing function: cart lines, a discount, a shipping rate and a tax rate become
//! an order's totals. `Cart.totals` and checkout both call it, so the total a customer is
//! shown is the total charged.
//!
//! Rounding is stated once here: amounts are exact minor units; each derived amount (a
//! percentage discount, the tax) is computed once per order from exact integers and
//! rounded half-up to the minor unit. Per-order rather than per-line rounding keeps the
//! tax of a cart independent of how its lines are split, and the figures always add up:
//! `total = subtotal - discount + shipping + tax` (tax counted as 0 in that sum when prices
//! already include it).

use crate::domain::{DiscountValue, Money, Percent};

/// Whether catalogue prices are net (tax is added on top, as in the US) or gross (they
/// include it, as in the EU, and the totals report the part of them that is tax).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TaxMode {
    #[default]
    AddedToPrices,
    IncludedInPrices,
}

/// A discount code as pricing sees it: what it takes off (a percentage rounded half-up,
/// or an amount, never more than the subtotal), from which subtotal on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Discount {
    pub reduction: DiscountValue,
    /// Below this subtotal the code takes nothing off.
    pub min_subtotal: Option<Money>,
}

/// A shipping method's price: `price`, or nothing once the discounted subtotal reaches
/// `free_over`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShippingRate {
    pub price: Money,
    pub free_over: Option<Money>,
}

/// Everything besides the lines that decides what an order costs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PriceRules {
    pub discount: Option<Discount>,
    /// None: nothing to ship with (no method configured, or no address yet): free.
    pub shipping: Option<ShippingRate>,
    /// None: no tax applies.
    pub tax_rate: Option<Percent>,
    pub tax_mode: TaxMode,
}

/// What an order costs, each part in the shop's currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrderTotals {
    /// The sum of the lines, at the prices shown in the catalogue.
    pub subtotal: Money,
    pub discount: Money,
    pub shipping: Money,
    /// Added on top with [`TaxMode::AddedToPrices`]; the part of the total that is tax
    /// with [`TaxMode::IncludedInPrices`].
    pub tax: Money,
    pub total: Money,
}

/// An order whose total does not fit the money type: refused, never wrapped around.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the order total is too large")]
pub struct TotalTooLarge;

/// The sum of line totals: what a discount's minimum and the rest of [`price`] start from.
pub fn subtotal(line_totals: impl IntoIterator<Item = Money>) -> Result<Money, TotalTooLarge> {
    line_totals
        .into_iter()
        .try_fold(Money::default(), |sum, line| sum.checked_add(line))
        .ok_or(TotalTooLarge)
}

/// Prices lines (their line totals) under `rules`.
pub fn price(
    line_totals: impl IntoIterator<Item = Money>,
    rules: &PriceRules,
) -> Result<OrderTotals, TotalTooLarge> {
    let subtotal = subtotal(line_totals)?.cents();
    let discount = rules.discount.map_or(0, |d| discount_of(subtotal, d));
    let discounted = subtotal - discount;
    let shipping = rules.shipping.map_or(0, |rate| match rate.free_over {
        Some(threshold) if discounted >= threshold.cents() => 0,
        _ => rate.price.cents(),
    });
    let taxable = discounted.checked_add(shipping).ok_or(TotalTooLarge)?;
    let rate = i128::from(rules.tax_rate.map_or(0, Percent::basis_points));
    let (tax, total) = match rules.tax_mode {
        TaxMode::AddedToPrices => {
            let tax = to_cents(round_half_up(i128::from(taxable) * rate, 10_000))?;
            (tax, taxable.checked_add(tax).ok_or(TotalTooLarge)?)
        }
        TaxMode::IncludedInPrices => {
            let tax = to_cents(round_half_up(i128::from(taxable) * rate, 10_000 + rate))?;
            (tax, taxable)
        }
    };
    Ok(OrderTotals {
        subtotal: Money::from_cents(subtotal),
        discount: Money::from_cents(discount),
        shipping: Money::from_cents(shipping),
        tax: Money::from_cents(tax),
        total: Money::from_cents(total),
    })
}

/// What `discount` takes off `subtotal`: nothing below its minimum, never more than the
/// subtotal, so no total is ever negative.
fn discount_of(subtotal: i64, discount: Discount) -> i64 {
    if discount
        .min_subtotal
        .is_some_and(|min| subtotal < min.cents())
    {
        return 0;
    }
    let off = match discount.reduction {
        DiscountValue::PercentOff(percent) => {
            let exact = i128::from(subtotal) * i128::from(percent.basis_points());
            // At most the subtotal itself (100%), so it fits.
            round_half_up(exact, 10_000) as i64
        }
        DiscountValue::AmountOff(amount) => amount.cents(),
    };
    off.min(subtotal)
}

/// `numerator / denominator` rounded to the nearest integer, halves away from zero; both
/// are non-negative here.
fn round_half_up(numerator: i128, denominator: i128) -> i128 {
    (2 * numerator + denominator) / (2 * denominator)
}

fn to_cents(amount: i128) -> Result<i64, TotalTooLarge> {
    i64::try_from(amount).map_err(|_| TotalTooLarge)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn cents(amount: i64) -> Money {
        Money::from_cents(amount)
    }

    fn percent(basis_points: u32) -> Percent {
        Percent::from_basis_points(basis_points).expect("at most 100%")
    }

    fn priced(lines: &[i64], rules: PriceRules) -> OrderTotals {
        price(lines.iter().copied().map(cents), &rules).expect("fits")
    }

    #[test]
    fn without_rules_the_total_is_the_sum_of_the_lines() {
        let totals = priced(&[1999, 501], PriceRules::default());
        assert_eq!(totals.subtotal, cents(2500));
        assert_eq!(totals.total, cents(2500));
        assert_eq!(
            (totals.discount, totals.shipping, totals.tax),
            (cents(0), cents(0), cents(0))
        );
    }

    #[test]
    fn tax_on_top_is_charged_on_the_discounted_subtotal_plus_shipping_rounded_half_up() {
        let rules = PriceRules {
            discount: Some(Discount {
                reduction: DiscountValue::PercentOff(percent(1000)),
                min_subtotal: None,
            }),
            shipping: Some(ShippingRate {
                price: cents(495),
                free_over: None,
            }),
            tax_rate: Some(percent(825)),
            tax_mode: TaxMode::AddedToPrices,
        };
        // 30.05 - 3.01 (10% of 30.05 is 3.005, rounded up) + 4.95 = 31.99; 8.25% of it
        // is 2.639175, so 2.64.
        let totals = priced(&[3005], rules);
        assert_eq!(totals.discount, cents(301));
        assert_eq!(totals.shipping, cents(495));
        assert_eq!(totals.tax, cents(264));
        assert_eq!(totals.total, cents(3005 - 301 + 495 + 264));
    }

    #[test]
    fn included_tax_is_reported_as_the_part_of_the_gross_amount_and_not_added() {
        let rules = PriceRules {
            tax_rate: Some(percent(2000)),
            tax_mode: TaxMode::IncludedInPrices,
            ..PriceRules::default()
        };
        // 20% VAT in 10.00 gross is 10.00 x 20 / 120 = 1.666..., so 1.67.
        let totals = priced(&[1000], rules);
        assert_eq!(totals.tax, cents(167));
        assert_eq!(totals.total, cents(1000));
    }

    #[test]
    fn a_half_cent_rounds_up() {
        let rules = PriceRules {
            tax_rate: Some(percent(500)),
            ..PriceRules::default()
        };
        // 5% of 0.10 is exactly half a cent.
        assert_eq!(priced(&[10], rules).tax, cents(1));
        // 5% of 0.09 is 0.45 of a cent.
        assert_eq!(priced(&[9], rules).tax, cents(0));
    }

    #[test]
    fn shipping_is_free_once_the_discounted_subtotal_reaches_the_threshold() {
        let shipping = Some(ShippingRate {
            price: cents(495),
            free_over: Some(cents(5000)),
        });
        let discount = Some(Discount {
            reduction: DiscountValue::AmountOff(cents(100)),
            min_subtotal: None,
        });
        let at = |lines: &[i64], discount| {
            priced(
                lines,
                PriceRules {
                    shipping,
                    discount,
                    ..PriceRules::default()
                },
            )
            .shipping
        };
        assert_eq!(at(&[5000], None), cents(0));
        assert_eq!(at(&[4999], None), cents(495));
        // 50.50 less 1.00 is below 50.00 again.
        assert_eq!(at(&[5050], discount), cents(495));
        assert_eq!(at(&[5100], discount), cents(0));
    }

    #[test]
    fn a_discount_takes_nothing_below_its_minimum_and_never_more_than_the_subtotal() {
        let amount_off = |amount, min: Option<i64>| PriceRules {
            discount: Some(Discount {
                reduction: DiscountValue::AmountOff(cents(amount)),
                min_subtotal: min.map(cents),
            }),
            ..PriceRules::default()
        };
        assert_eq!(
            priced(&[2999], amount_off(500, Some(3000))).discount,
            cents(0)
        );
        assert_eq!(
            priced(&[3000], amount_off(500, Some(3000))).discount,
            cents(500)
        );
        let totals = priced(&[300], amount_off(500, None));
        assert_eq!(totals.discount, cents(300));
        assert_eq!(totals.total, cents(0));
    }

    #[test]
    fn a_total_past_the_money_type_is_refused() {
        assert_eq!(
            price([cents(i64::MAX), cents(1)], &PriceRules::default()),
            Err(TotalTooLarge)
        );
    }

    fn rules() -> impl Strategy<Value = PriceRules> {
        let reduction = prop_oneof![
            (0..=10_000u32).prop_map(|bp| DiscountValue::PercentOff(percent(bp))),
            (0..=100_000_000i64).prop_map(|c| DiscountValue::AmountOff(cents(c))),
        ];
        let discount =
            (reduction, proptest::option::of(0..=10_000_000i64)).prop_map(|(reduction, min)| {
                Discount {
                    reduction,
                    min_subtotal: min.map(cents),
                }
            });
        let shipping = (0..=100_000i64, proptest::option::of(0..=10_000_000i64)).prop_map(
            |(price, free_over)| ShippingRate {
                price: cents(price),
                free_over: free_over.map(cents),
            },
        );
        let mode = prop_oneof![
            Just(TaxMode::AddedToPrices),
            Just(TaxMode::IncludedInPrices)
        ];
        (
            proptest::option::of(discount),
            proptest::option::of(shipping),
            proptest::option::of((0..=10_000u32).prop_map(percent)),
            mode,
        )
            .prop_map(|(discount, shipping, tax_rate, tax_mode)| PriceRules {
                discount,
                shipping,
                tax_rate,
                tax_mode,
            })
    }

    /// Line totals as a cart holds them: up to 100 lines of a price times a quantity.
    fn lines() -> impl Strategy<Value = Vec<i64>> {
        prop::collection::vec((0..=100_000_000i64, 1..=999i64), 0..100)
            .prop_map(|lines| lines.into_iter().map(|(p, q)| p * q).collect())
    }

    proptest! {
        #[test]
        fn the_totals_always_add_up_and_nothing_is_negative(lines in lines(), rules in rules()) {
            let t = priced(&lines, rules);
            let added_tax = match rules.tax_mode {
                TaxMode::AddedToPrices => t.tax.cents(),
                TaxMode::IncludedInPrices => 0,
            };
            prop_assert_eq!(t.subtotal.cents(), lines.iter().sum::<i64>());
            prop_assert_eq!(
                t.total.cents(),
                t.subtotal.cents() - t.discount.cents() + t.shipping.cents() + added_tax
            );
            for part in [t.subtotal, t.discount, t.shipping, t.tax, t.total] {
                prop_assert!(part.cents() >= 0, "{t:?}");
            }
            prop_assert!(t.discount <= t.subtotal);
        }

        #[test]
        fn tax_is_the_rate_of_the_taxable_amount_to_the_nearest_cent_halves_up(
            lines in lines(),
            rules in rules(),
        ) {
            let t = priced(&lines, rules);
            let taxable = i128::from(t.subtotal.cents() - t.discount.cents() + t.shipping.cents());
            let rate = i128::from(rules.tax_rate.map_or(0, Percent::basis_points));
            let (exact_numerator, denominator) = match rules.tax_mode {
                TaxMode::AddedToPrices => (taxable * rate, 10_000),
                TaxMode::IncludedInPrices => (taxable * rate, 10_000 + rate),
            };
            // |tax - exact| <= 1/2, and exactly 1/2 only when rounded up.
            let twice_error = 2 * (i128::from(t.tax.cents()) * denominator - exact_numerator);
            prop_assert!(twice_error <= denominator && twice_error > -denominator, "{t:?}");
        }

        #[test]
        fn a_percentage_discount_is_its_share_of_the_subtotal_halves_up(
            lines in lines(),
            bp in 0..=10_000u32,
        ) {
            let rules = PriceRules {
                discount: Some(Discount { reduction: DiscountValue::PercentOff(percent(bp)), min_subtotal: None }),
                ..PriceRules::default()
            };
            let t = priced(&lines, rules);
            let exact = i128::from(t.subtotal.cents()) * i128::from(bp);
            let twice_error = 2 * (i128::from(t.discount.cents()) * 10_000 - exact);
            prop_assert!(twice_error <= 10_000 && twice_error > -10_000, "{t:?}");
        }

        #[test]
        fn the_lines_order_does_not_change_the_totals(
            mut lines in lines(),
            rules in rules(),
        ) {
            let before = priced(&lines, rules);
            lines.reverse();
            prop_assert_eq!(priced(&lines, rules), before);
        }

        #[test]
        fn a_larger_cart_never_costs_less_before_shipping_thresholds(
            lines in lines(),
            extra in 0..=1_000_000i64,
            rules in rules(),
        ) {
            // Without free shipping or a minimum, adding a line never lowers the total.
            let mut rules = rules;
            if let Some(shipping) = &mut rules.shipping { shipping.free_over = None; }
            if let Some(discount) = &mut rules.discount { discount.min_subtotal = None; }
            let before = priced(&lines, rules);
            let mut more = lines.clone();
            more.push(extra);
            prop_assert!(priced(&more, rules).total >= before.total);
        }
    }
}
