//! An order's payment as its buyer sees it (`Order.payment`): which method, and where it
//! stands, read from the ledger's charge and the order's refunded total.

use entity::{
    order,
    payment::{self, PaymentStatus},
};

use crate::{
    domain::{Money, OrderStatus},
    payments::CustomerAction,
};

/// Where an order's payment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentState {
    /// The buyer must act (3-D Secure, a gateway's page) before the gateway charges:
    /// [`PaymentView::action`] says how.
    RequiresAction,
    /// Sent to the gateway, or about to be; its answer is not recorded yet.
    Pending,
    /// Charged.
    Succeeded,
    /// Not charged: declined, abandoned, or the order was cancelled before it was paid.
    Failed,
    /// Charged, and all of it given back.
    Refunded,
}

/// The latest payment attempt of an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentView {
    /// The code of the gateway (`paymentMethod`) it went to.
    pub method: String,
    pub state: PaymentState,
    /// What was (or is to be) charged.
    pub amount: Money,
    /// What the buyer must do, while the state is [`PaymentState::RequiresAction`].
    pub action: Option<CustomerAction>,
}

/// The payment of `order` from its ledger charge (an order has one charge; a new attempt
/// would be a new order). REFUNDED once refunds add up to the whole total, so a partly
/// refunded order is still SUCCEEDED (its `refunds` say how much came back).
pub fn payment_of(order: &order::Model, charge: &payment::Model) -> PaymentView {
    let state = match charge.status {
        PaymentStatus::Pending => PaymentState::Pending,
        // The order left PENDING while its customer was still to act (the sweeper gave up
        // on it): that charge will never be taken.
        PaymentStatus::RequiresAction if order.status != OrderStatus::Pending => {
            PaymentState::Failed
        }
        PaymentStatus::RequiresAction => PaymentState::RequiresAction,
        PaymentStatus::Failed => PaymentState::Failed,
        // A free order was "paid" with nothing; it has nothing to refund.
        PaymentStatus::Succeeded
            if order.total_cents > 0 && order.refunded_cents >= order.total_cents =>
        {
            PaymentState::Refunded
        }
        PaymentStatus::Succeeded => PaymentState::Succeeded,
    };
    let action = match state {
        PaymentState::RequiresAction => action_of(charge),
        _ => None,
    };
    PaymentView {
        method: charge.gateway.clone(),
        state,
        amount: Money::from_cents(charge.amount_cents),
        action,
    }
}

/// What the customer of a charge waiting for them must do, as its ledger row keeps it.
pub(super) fn action_of(charge: &payment::Model) -> Option<CustomerAction> {
    match (&charge.client_secret, &charge.redirect_url) {
        (Some(secret), _) => Some(CustomerAction::ClientSecret(secret.clone())),
        (None, Some(url)) => Some(CustomerAction::Redirect(url.clone())),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use entity::payment::PaymentKind;

    use super::*;

    fn order(total_cents: i64, refunded_cents: i64) -> order::Model {
        order::Model {
            status: OrderStatus::Paid,
            total_cents,
            subtotal_cents: total_cents,
            refunded_cents,
            ..super::super::fixture::order()
        }
    }

    fn charge(status: PaymentStatus, amount_cents: i64) -> payment::Model {
        let now = Utc::now();
        payment::Model {
            id: 1,
            order_id: 1,
            kind: PaymentKind::Charge,
            gateway: "stripe".into(),
            reference: None,
            amount_cents,
            status,
            idempotency_key: None,
            reason: None,
            client_secret: None,
            redirect_url: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn a_charge_is_refunded_only_when_refunds_reach_the_whole_total() {
        let state = |total, refunded, status| {
            payment_of(&order(total, refunded), &charge(status, total)).state
        };
        assert_eq!(
            state(1000, 0, PaymentStatus::Succeeded),
            PaymentState::Succeeded
        );
        assert_eq!(
            state(1000, 999, PaymentStatus::Succeeded),
            PaymentState::Succeeded
        );
        assert_eq!(
            state(1000, 1000, PaymentStatus::Succeeded),
            PaymentState::Refunded
        );
        assert_eq!(
            state(0, 0, PaymentStatus::Succeeded),
            PaymentState::Succeeded
        );
        assert_eq!(
            state(1000, 0, PaymentStatus::Pending),
            PaymentState::Pending
        );
        assert_eq!(state(1000, 0, PaymentStatus::Failed), PaymentState::Failed);
    }

    #[test]
    fn a_charge_waiting_for_its_customer_says_what_to_do_until_its_order_is_settled() {
        let mut waiting = charge(PaymentStatus::RequiresAction, 1000);
        waiting.redirect_url = Some("https://pay.example/approve".into());
        let mut pending = order(1000, 0);
        pending.status = OrderStatus::Pending;

        let view = payment_of(&pending, &waiting);
        let mut expired = pending.clone();
        expired.status = OrderStatus::Cancelled;

        assert_eq!(view.state, PaymentState::RequiresAction);
        assert_eq!(
            view.action,
            Some(CustomerAction::Redirect(
                "https://pay.example/approve".into()
            ))
        );
        let gone = payment_of(&expired, &waiting);
        assert_eq!((gone.state, gone.action), (PaymentState::Failed, None));
    }

    #[test]
    fn the_method_is_the_gateway_the_ledger_names() {
        let view = payment_of(&order(1000, 0), &charge(PaymentStatus::Succeeded, 1000));
        assert_eq!(view.method, "stripe");
        assert_eq!(view.amount, Money::from_cents(1000));
    }
}
