use std::{collections::HashMap, sync::Mutex};

use super::{
    AwaitingCustomer, Charge, ChargeRequest, Completion, CustomerAction, PaymentError,
    PaymentGateway, Receipt, RefundRequest,
};
use crate::domain::{Currency, Money};

/// The offline gateway, for development and tests. It answers like Stripe's test mode:
/// `tok_visa`, `tok_mastercard` and `tok_amex` succeed, `tok_chargeDeclined…` is declined,
/// `tok_processingError` fails as an unreachable gateway would, and `tok_noAnswer` is
/// charged but its answer never comes (the request hangs), as when a gateway or the
/// network stalls after taking the money: the order stays PENDING until the sweeper finds
/// the charge. `tok_refundFail` is charged, but every refund of it is declined (Stripe's
/// test card 4000 0000 0000 5126 does the same). Refunds may be partial, and are declined
/// past what is left of the charge. Like a real gateway it remembers idempotency keys, so
/// a repeated request returns the first answer.
///
/// `tok_threeDSecureRequired` is charged only once its customer authenticates, as a card
/// with 3-D Secure is: the charge answers [`Charge::ActionRequired`] with a redirect to an
/// authentication page that the shop serves for this gateway (see [`TestGateway::page`]
/// and [`TestGateway::authenticate`]). What was decided there is kept in this process
/// only, as everything of this gateway is: an offline stand-in for one server, not for
/// several.
pub struct TestGateway {
    /// Where the shop serves the authentication page, e.g. `http://127.0.0.1:8000`.
    page_base: String,
    charges: Mutex<HashMap<String, Receipt>>,
    refunds: Mutex<Refunds>,
    /// Charges waiting for their customer, by reference.
    awaiting: Mutex<HashMap<String, Awaiting>>,
}

/// A charge of `tok_threeDSecureRequired`, waiting on the authentication page.
#[derive(Clone, Debug)]
struct Awaiting {
    idempotency_key: String,
    amount: Money,
    currency: Currency,
    return_url: String,
    decision: Decision,
}

/// What became of an authentication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Not decided yet.
    Open,
    /// The customer authenticated: the charge is taken when it is completed.
    Approved,
    /// The customer failed the authentication.
    Refused,
    /// The shop gave up waiting (the order expired).
    Abandoned,
}

/// What the authentication page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthenticationPage {
    /// The order number the charge is for.
    pub order_number: String,
    pub amount: Money,
    pub currency: Currency,
    pub decision: Decision,
}

/// The authentication page's answer to the customer's choice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated {
    pub order_number: String,
    /// Where the customer goes next: the order's page in the storefront.
    pub return_url: String,
    /// What stands now: the first decision made, whatever was chosen after.
    pub decision: Decision,
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
    /// The gateway, with its authentication page served under `page_base` (this server's
    /// own address).
    pub fn new(page_base: &str) -> Self {
        Self {
            page_base: page_base.trim_end_matches('/').to_owned(),
            charges: Mutex::default(),
            refunds: Mutex::default(),
            awaiting: Mutex::default(),
        }
    }

    /// The path of a waiting charge's authentication page, below the page base.
    pub fn page_path(reference: &str) -> String {
        format!("{AUTHENTICATION_PATH}/{reference}")
    }

    /// What the authentication page of the charge `reference` shows; `None` for a
    /// reference this gateway did not hand out.
    pub fn page(&self, reference: &str) -> Option<AuthenticationPage> {
        let awaiting = self.awaiting.lock().ok()?;
        awaiting.get(reference).map(|charge| AuthenticationPage {
            order_number: charge.idempotency_key.clone(),
            amount: charge.amount,
            currency: charge.currency.clone(),
            decision: charge.decision,
        })
    }

    /// The customer's choice on the authentication page. The first decision stands (a
    /// second click, or a click after the shop gave up, changes nothing). `None` for a
    /// reference this gateway did not hand out.
    pub fn authenticate(&self, reference: &str, approve: bool) -> Option<Authenticated> {
        let mut awaiting = self.awaiting.lock().ok()?;
        let charge = awaiting.get_mut(reference)?;
        if charge.decision == Decision::Open {
            charge.decision = if approve {
                Decision::Approved
            } else {
                Decision::Refused
            };
        }
        Some(Authenticated {
            order_number: charge.idempotency_key.clone(),
            return_url: charge.return_url.clone(),
            decision: charge.decision,
        })
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
/// The token whose charge waits for the customer to authenticate.
const THREE_D_SECURE: &str = "tok_threeDSecureRequired";
/// Where the shop serves the authentication page, below its own address.
pub const AUTHENTICATION_PATH: &str = "/payments/test/authenticate";

fn poisoned<T>(_: T) -> PaymentError {
    PaymentError::Unavailable("test gateway state poisoned".into())
}

fn reference(prefix: &str) -> Receipt {
    Receipt {
        reference: format!("{prefix}_{:016x}", rand::random::<u64>()),
    }
}

impl TestGateway {
    /// Takes the money of a charge (once per idempotency key) and remembers how much, so
    /// that refunds stay within it.
    fn take(
        &self,
        idempotency_key: &str,
        amount: Money,
        refusing_refunds: bool,
    ) -> Result<Receipt, PaymentError> {
        let receipt = self
            .charges
            .lock()
            .map_err(poisoned)?
            .entry(idempotency_key.to_owned())
            .or_insert_with(|| reference("test_ch"))
            .clone();
        let mut refunds = self.refunds.lock().map_err(poisoned)?;
        refunds
            .charged
            .insert(receipt.reference.clone(), amount.cents());
        if refusing_refunds {
            refunds.refusing.push(receipt.reference.clone());
        }
        Ok(receipt)
    }

    /// Starts a charge that waits on the authentication page; a repeated request (same
    /// idempotency key) gets the same page.
    fn await_customer(&self, request: &ChargeRequest) -> Result<AwaitingCustomer, PaymentError> {
        let mut awaiting = self.awaiting.lock().map_err(poisoned)?;
        let existing = awaiting
            .iter()
            .find(|(_, charge)| charge.idempotency_key == request.idempotency_key)
            .map(|(reference, _)| reference.clone());
        let reference = existing.unwrap_or_else(|| {
            // Unguessable: the page needs no login, so knowing its address is the right
            // to authenticate, as a gateway's own page would.
            let reference = format!("test_pa_{:032x}", rand::random::<u128>());
            awaiting.insert(
                reference.clone(),
                Awaiting {
                    idempotency_key: request.idempotency_key.clone(),
                    amount: request.amount,
                    currency: request.currency.clone(),
                    return_url: request.return_url.clone(),
                    decision: Decision::Open,
                },
            );
            reference
        });
        Ok(AwaitingCustomer {
            action: CustomerAction::Redirect(format!(
                "{}{}",
                self.page_base,
                Self::page_path(&reference)
            )),
            reference,
        })
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

    async fn charge(&self, request: &ChargeRequest) -> Result<Charge, PaymentError> {
        let token = request.token.as_deref().unwrap_or_default();
        match token {
            "tok_visa" | "tok_mastercard" | "tok_amex" | NO_ANSWER | REFUND_FAIL => {}
            THREE_D_SECURE => return self.await_customer(request).map(Charge::ActionRequired),
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
        let receipt = self.take(
            &request.idempotency_key,
            request.amount,
            token == REFUND_FAIL,
        )?;
        if token == NO_ANSWER {
            std::future::pending::<()>().await;
        }
        Ok(Charge::Paid(receipt))
    }

    async fn complete(
        &self,
        reference: &str,
        idempotency_key: &str,
    ) -> Result<Completion, PaymentError> {
        let charge = self
            .awaiting
            .lock()
            .map_err(poisoned)?
            .get(reference)
            .cloned();
        let Some(charge) = charge.filter(|charge| charge.idempotency_key == idempotency_key) else {
            // Handed out by another process, or before a restart: this one cannot tell.
            return Ok(Completion::Waiting);
        };
        Ok(match charge.decision {
            Decision::Open => Completion::Waiting,
            Decision::Approved => {
                Completion::Paid(self.take(idempotency_key, charge.amount, false)?)
            }
            Decision::Refused => Completion::Failed("the card's authentication failed".into()),
            Decision::Abandoned => {
                Completion::Failed("the payment expired before it was authenticated".into())
            }
        })
    }

    async fn abandon(&self, reference: &str) -> Result<(), PaymentError> {
        if let Some(charge) = self.awaiting.lock().map_err(poisoned)?.get_mut(reference)
            && charge.decision == Decision::Open
        {
            charge.decision = Decision::Abandoned;
        }
        Ok(())
    }

    async fn find_charge(&self, idempotency_key: &str) -> Result<Option<Receipt>, PaymentError> {
        let charges = self.charges.lock().map_err(poisoned)?;
        Ok(charges.get(idempotency_key).cloned())
    }

    async fn refund(&self, request: &RefundRequest) -> Result<Receipt, PaymentError> {
        let mut refunds = self.refunds.lock().map_err(poisoned)?;
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

    fn charge(token: &str, cents: i64) -> ChargeRequest {
        ChargeRequest {
            amount: Money::from_cents(cents),
            currency: Currency::usd(),
            token: Some(token.into()),
            idempotency_key: format!("SO-{token}"),
            description: "test".into(),
            return_url: "http://store.example/orders/SO-1".into(),
        }
    }

    fn gateway() -> TestGateway {
        TestGateway::new("http://shop.example/")
    }

    async fn paid(gateway: &TestGateway, request: &ChargeRequest) -> Receipt {
        match gateway.charge(request).await.expect("charged") {
            Charge::Paid(receipt) => receipt,
            other => panic!("not paid: {other:?}"),
        }
    }

    async fn awaiting(gateway: &TestGateway, request: &ChargeRequest) -> AwaitingCustomer {
        match gateway.charge(request).await.expect("started") {
            Charge::ActionRequired(awaiting) => awaiting,
            other => panic!("not waiting: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_three_d_secure_charge_waits_on_the_page_and_is_taken_once_approved() {
        let gateway = gateway();
        let request = charge(THREE_D_SECURE, 1000);
        let started = awaiting(&gateway, &request).await;
        let CustomerAction::Redirect(url) = &started.action else {
            panic!("a redirect")
        };
        assert_eq!(
            url,
            &format!(
                "http://shop.example{AUTHENTICATION_PATH}/{}",
                started.reference
            )
        );
        assert_eq!(
            awaiting(&gateway, &request).await,
            started,
            "same key, same page"
        );
        let complete = || gateway.complete(&started.reference, &request.idempotency_key);
        assert_eq!(complete().await.expect("asked"), Completion::Waiting);
        assert_eq!(gateway.charge_count(), 0);

        let approved = gateway
            .authenticate(&started.reference, true)
            .expect("known");
        assert_eq!(approved.return_url, request.return_url);
        assert_eq!(approved.order_number, request.idempotency_key);
        let refused_later = gateway
            .authenticate(&started.reference, false)
            .expect("known");

        assert_eq!(
            refused_later.decision,
            Decision::Approved,
            "the first decision stands"
        );
        let Completion::Paid(first) = complete().await.expect("asked") else {
            panic!("paid")
        };
        let Completion::Paid(again) = complete().await.expect("asked") else {
            panic!("paid")
        };
        assert_eq!(first, again);
        assert_eq!(gateway.charge_count(), 1);
        assert_eq!(
            gateway
                .find_charge(&request.idempotency_key)
                .await
                .expect("asked"),
            Some(first)
        );
    }

    #[tokio::test]
    async fn a_refused_or_abandoned_authentication_is_never_taken() {
        let gateway = gateway();
        let refused = awaiting(&gateway, &charge(THREE_D_SECURE, 1000)).await;
        let mut late = charge(THREE_D_SECURE, 500);
        late.idempotency_key = "SO-late".into();
        let abandoned = awaiting(&gateway, &late).await;

        gateway.authenticate(&refused.reference, false);
        gateway
            .abandon(&abandoned.reference)
            .await
            .expect("abandoned");
        let too_late = gateway
            .authenticate(&abandoned.reference, true)
            .expect("known");

        assert_eq!(too_late.decision, Decision::Abandoned);
        for (reference, key) in [
            (&refused.reference, "SO-tok_threeDSecureRequired"),
            (&abandoned.reference, "SO-late"),
        ] {
            assert!(matches!(
                gateway.complete(reference, key).await,
                Ok(Completion::Failed(_))
            ));
        }
        assert_eq!(gateway.charge_count(), 0);
        assert!(gateway.page("test_pa_unknown").is_none());
        assert!(gateway.authenticate("test_pa_unknown", true).is_none());
    }

    #[tokio::test]
    async fn a_reference_is_completed_only_for_its_own_order() {
        let gateway = gateway();
        let started = awaiting(&gateway, &charge(THREE_D_SECURE, 1000)).await;
        gateway.authenticate(&started.reference, true);

        let other = gateway.complete(&started.reference, "SO-other").await;

        assert_eq!(other.expect("asked"), Completion::Waiting);
        assert_eq!(gateway.charge_count(), 0);
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
        let gateway = gateway();
        let charged = paid(&gateway, &charge("tok_visa", 1000)).await;

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
        let gateway = gateway();
        let charged = paid(&gateway, &charge(REFUND_FAIL, 1000)).await;

        let refunded = gateway.refund(&refund(&charged, 100, "a")).await;

        assert!(matches!(refunded, Err(PaymentError::Declined(_))));
        assert_eq!(gateway.refund_count(), 0);
    }
}
