use std::{collections::HashMap, sync::Mutex};

use super::{ChargeRequest, PaymentError, PaymentGateway, Receipt, RefundRequest};

/// The offline gateway, for development and tests. It answers like Stripe's test mode:
/// `tok_visa`, `tok_mastercard` and `tok_amex` succeed, `tok_chargeDeclined…` is declined,
/// `tok_processingError` fails as an unreachable gateway would, and `tok_noAnswer` is
/// charged but its answer never comes (the request hangs), as when a gateway or the
/// network stalls after taking the money: the order stays PENDING until the sweeper finds
/// the charge. Like a real gateway it remembers idempotency keys, so a repeated request
/// returns the first answer.
#[derive(Default)]
pub struct TestGateway {
    charges: Mutex<HashMap<String, Receipt>>,
    refunds: Mutex<HashMap<String, Receipt>>,
}

impl TestGateway {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many distinct refunds were made.
    pub fn refund_count(&self) -> usize {
        self.refunds.lock().map(|r| r.len()).unwrap_or(0)
    }

    /// How many distinct charges were made.
    pub fn charge_count(&self) -> usize {
        self.charges.lock().map(|c| c.len()).unwrap_or(0)
    }
}

/// The token whose charge is taken but never answered.
const NO_ANSWER: &str = "tok_noAnswer";

fn reference(prefix: &str) -> Receipt {
    Receipt {
        reference: format!("{prefix}_{:016x}", rand::random::<u64>()),
    }
}

#[async_trait::async_trait]
impl PaymentGateway for TestGateway {
    fn name(&self) -> &'static str {
        "test"
    }

    async fn charge(&self, request: &ChargeRequest) -> Result<Receipt, PaymentError> {
        match request.token.as_str() {
            "tok_visa" | "tok_mastercard" | "tok_amex" | NO_ANSWER => {}
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
        if request.token == NO_ANSWER {
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
        Ok(refunds
            .entry(request.idempotency_key.clone())
            .or_insert_with(|| reference("test_re"))
            .clone())
    }
}
