use std::{collections::HashMap, sync::Mutex};

use super::{ChargeRequest, PaymentError, PaymentGateway, Receipt, RefundRequest};

/// The offline gateway, for development and tests. It answers like Stripe's test mode:
/// `tok_visa`, `tok_mastercard` and `tok_amex` succeed, `tok_chargeDeclined…` is declined,
/// `tok_processingError` fails as an unreachable gateway would, and `tok_noAnswer` is
/// charged but its answer never comes (the request hangs), as when a gateway or the
/// network stalls after taking the money: the order stays PENDING until the sweeper finds
/// the charge. `tok_refundFail` is charged, but every refund of it is declined (Stripe's
/// test card 4000 0000 0000 5126 does the same). Refunds may be partial, and are declined
/// past what is left of the charge. Like a real gateway it remembers idempotency keys, so
/// a repeated request returns the first answer.
#[derive(Default)]
pub struct TestGateway {
    charges: Mutex<HashMap<String, Receipt>>,
    refunds: Mutex<Refunds>,
}

#[derive(Default)]
struct Refunds {
    /// Each refund's receipt, by idempotency key.
    by_key: HashMap<String, Receipt>,
    /// The amount (cents) of each charge made here, by reference; the charges of an
    /// earlier run are not known, and are refunded without a limit.
    charged: HashMap<String, i64>,
    /// What was refunded of each charge, by reference.
    refunded: HashMap<String, i64>,
    /// The charges whose refunds are declined (`tok_refundFail`).
    refusing: Vec<String>,
}

impl TestGateway {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many distinct refunds were made.
    pub fn refund_count(&self) -> usize {
        self.refunds.lock().map(|r| r.by_key.len()).unwrap_or(0)
    }

    /// How many distinct charges were made.
    pub fn charge_count(&self) -> usize {
        self.charges.lock().map(|c| c.len()).unwrap_or(0)
    }
}

/// The token whose charge is taken but never answered.
const NO_ANSWER: &str = "tok_noAnswer";
/// The token whose charge is taken and whose refunds are declined.
const REFUND_FAIL: &str = "tok_refundFail";

fn reference(prefix: &str) -> Receipt {
    Receipt {
        reference: format!("{prefix}_{:016x}", rand::random::<u64>()),
    }
}

#[async_trait::async_trait]
impl PaymentGateway for TestGateway {
    fn code(&self) -> &'static str {
        "test"
    }

    fn name(&self) -> &'static str {
        "Test card"
    }

    fn requires_token(&self) -> bool {
        true
    }

    async fn charge(&self, request: &ChargeRequest) -> Result<Receipt, PaymentError> {
        let token = request.token.as_deref().unwrap_or_default();
        match token {
            "tok_visa" | "tok_mastercard" | "tok_amex" | NO_ANSWER | REFUND_FAIL => {}
            "tok_processingError" => {
                return Err(PaymentError::Unavailable(
                    "the test gateway timed out".into(),
                ));
            }
            token if token.starts_with("tok_chargeDeclined") => {
                return Err(PaymentError::Declined("your card was declined".into()));
            }
            _ => {
                return Err(PaymentError::Declined(
                    "the payment token is not valid".into(),
                ));
            }
        }
        let receipt = self
            .charges
            .lock()
            .map_err(|_| PaymentError::Unavailable("test gateway state poisoned".into()))?
            .entry(request.idempotency_key.clone())
            .or_insert_with(|| reference("test_ch"))
            .clone();
        {
            let mut refunds = self
                .refunds
                .lock()
                .map_err(|_| PaymentError::Unavailable("test gateway state poisoned".into()))?;
            refunds
                .charged
                .insert(receipt.reference.clone(), request.amount.cents());
            if token == REFUND_FAIL {
                refunds.refusing.push(receipt.reference.clone());
            }
        }
        if token == NO_ANSWER {
            std::future::pending::<()>().await;
        }
        Ok(receipt)
    }

    async fn find_charge(&self, idempotency_key: &str) -> Result<Option<Receipt>, PaymentError> {
        let charges = self
            .charges
            .lock()
            .map_err(|_| PaymentError::Unavailable("test gateway state poisoned".into()))?;
        Ok(charges.get(idempotency_key).cloned())
    }

    async fn refund(&self, request: &RefundRequest) -> Result<Receipt, PaymentError> {
        let mut refunds = self
            .refunds
            .lock()
            .map_err(|_| PaymentError::Unavailable("test gateway state poisoned".into()))?;
        if let Some(receipt) = refunds.by_key.get(&request.idempotency_key) {
            return Ok(receipt.clone());
        }
        let charge = &request.charge_reference;
        if refunds.refusing.contains(charge) {
            return Err(PaymentError::Declined(
                "the card's issuer refused the refund".into(),
            ));
        }
        let amount = request.amount.cents();
        let refunded = refunds.refunded.get(charge).copied().unwrap_or(0);
        if amount <= 0
            || refunds
                .charged
                .get(charge)
                .is_some_and(|charged| refunded + amount > *charged)
        {
            return Err(PaymentError::Declined(
                "the refund is more than what is left of the charge".into(),
            ));
        }
        refunds.refunded.insert(charge.clone(), refunded + amount);
        let receipt = reference("test_re");
        refunds
            .by_key
            .insert(request.idempotency_key.clone(), receipt.clone());
        Ok(receipt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Currency, Money};

    fn charge(token: &str, cents: i64) -> ChargeRequest {
        ChargeRequest {
            amount: Money::from_cents(cents),
            currency: Currency::usd(),
            token: Some(token.into()),
            idempotency_key: format!("SO-{token}"),
            description: "test".into(),
        }
    }

    fn refund(charge: &Receipt, cents: i64, key: &str) -> RefundRequest {
        RefundRequest {
            charge_reference: charge.reference.clone(),
            amount: Money::from_cents(cents),
            currency: Currency::usd(),
            idempotency_key: key.into(),
        }
    }

    #[tokio::test]
    async fn refunds_may_be_partial_but_never_exceed_the_charge_and_repeat_by_key() {
        let gateway = TestGateway::new();
        let charged = gateway
            .charge(&charge("tok_visa", 1000))
            .await
            .expect("charged");

        let first = gateway
            .refund(&refund(&charged, 600, "a"))
            .await
            .expect("600");
        let again = gateway
            .refund(&refund(&charged, 600, "a"))
            .await
            .expect("replay");
        let too_much = gateway.refund(&refund(&charged, 401, "b")).await;
        let rest = gateway.refund(&refund(&charged, 400, "c")).await;

        assert_eq!(first, again);
        assert!(matches!(too_much, Err(PaymentError::Declined(_))));
        assert!(rest.is_ok());
        assert_eq!(gateway.refund_count(), 2);
    }

    #[tokio::test]
    async fn refunds_of_a_refund_fail_charge_are_declined() {
        let gateway = TestGateway::new();
        let charged = gateway
            .charge(&charge(REFUND_FAIL, 1000))
            .await
            .expect("charged");

        let refunded = gateway.refund(&refund(&charged, 100, "a")).await;

        assert!(matches!(refunded, Err(PaymentError::Declined(_))));
        assert_eq!(gateway.refund_count(), 0);
    }
}
