//! The test gateway's 3-D Secure page: what a bank's authentication page is for a card
//! that needs it, served by the shop itself so that the whole flow runs offline, in tests
//! and in a browser. Only while the test gateway is enabled (404 otherwise).
//!
//! `GET` shows the payment with two forms, which `POST` `outcome=succeed` or
//! `outcome=fail` to the same address. The POST records the choice with the gateway,
//! settles the order as a real gateway's webhook would (PAID, or CANCELLED with its stock
//! back), and answers 303 to the storefront's return page. Knowing the address (an
//! unguessable reference) is what entitles one to answer it, as with a gateway's page.

use axum::{
    Form,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::AppState;
use crate::{
    payments::test_gateway::{AuthenticationPage, Decision},
    service::orders::{self, AskedBy},
};

/// What the page's forms send.
#[derive(Deserialize)]
pub struct Choice {
    outcome: String,
}

/// `GET`: the page, or 404 for an address the gateway did not hand out.
pub async fn show(State(state): State<AppState>, Path(reference): Path<String>) -> Response {
    let Some(gateway) = &state.test_gateway else {
        return not_found();
    };
    match gateway.page(&reference) {
        Some(page) => page_response(StatusCode::OK, &render(&page)),
        None => not_found(),
    }
}

/// `POST`: the customer's choice. Settles the order and sends the customer back to the
/// storefront; a choice after the first changes nothing.
pub async fn answer(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    Form(choice): Form<Choice>,
) -> Response {
    let Some(gateway) = &state.test_gateway else {
        return not_found();
    };
    let approve = match choice.outcome.as_str() {
        "succeed" => true,
        "fail" => false,
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                "outcome must be \"succeed\" or \"fail\"",
            )
                .into_response();
        }
    };
    let Some(authenticated) = gateway.authenticate(&reference, approve) else {
        return not_found();
    };
    let settled = orders::complete_payment_of(
        &state.db,
        &state.payments,
        &authenticated.order_number,
        AskedBy::AuthenticationPage,
    )
    .await;
    if let Err(err) = settled {
        // The choice is recorded with the gateway: confirmPayment or the sweeper settles
        // the order from it later.
        tracing::error!(order = %authenticated.order_number, error = ?err, "could not settle a payment after its authentication");
    }
    Redirect::to(&authenticated.return_url).into_response()
}

fn not_found() -> Response {
    page_response(
        StatusCode::NOT_FOUND,
        &document(
            "Payment not found",
            "<p>There is no payment to authenticate at this address.</p>",
        ),
    )
}

fn page_response(status: StatusCode, html: &str) -> Response {
    let mut response = (status, Html(html.to_owned())).into_response();
    let headers = response.headers_mut();
    // Nothing on the page runs script or loads anything; it must not be framed (a
    // clickjacked "succeed" would pay).
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn render(page: &AuthenticationPage) -> String {
    let amount = format!("{} {}", page.amount, page.currency.as_str());
    let summary = format!(
        "<p>Order <strong>{}</strong> asks for a payment of <strong>{}</strong>.</p>",
        escape(&page.order_number),
        escape(&amount)
    );
    let body = match page.decision {
        Decision::Open => format!(
            "{summary}\
             <p>This is the test gateway's stand-in for your bank's 3-D Secure check. \
             No money moves.</p>\
             <form method=\"post\"><input type=\"hidden\" name=\"outcome\" value=\"succeed\">\
             <button type=\"submit\">Authenticate the payment</button></form>\
             <form method=\"post\"><input type=\"hidden\" name=\"outcome\" value=\"fail\">\
             <button type=\"submit\" class=\"fail\">Fail the authentication</button></form>"
        ),
        Decision::Approved => format!("{summary}<p>This payment is authenticated.</p>"),
        Decision::Refused => format!("{summary}<p>This payment's authentication failed.</p>"),
        Decision::Abandoned => {
            format!("{summary}<p>This payment expired before it was authenticated.</p>")
        }
    };
    document("Authenticate your payment", &body)
}

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}}\
         form{{display:inline-block;margin:.5rem .5rem 0 0}}\
         button{{font:inherit;padding:.6rem 1rem;border:0;border-radius:.3rem;background:#0b5cad;color:#fff;cursor:pointer}}\
         button.fail{{background:#a3261d}}button:focus-visible{{outline:3px solid #f5a623;outline-offset:2px}}\
         </style></head><body><main><h1>{title}</h1>{body}</main></body></html>"
    )
}

/// HTML-escapes text for an element's content.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Currency, Money};

    fn page(decision: Decision) -> AuthenticationPage {
        AuthenticationPage {
            order_number: "SO-<b>".into(),
            amount: Money::from_cents(1234),
            currency: Currency::usd(),
            decision,
        }
    }

    #[test]
    fn an_open_payment_offers_both_outcomes_and_a_decided_one_neither() {
        let open = render(&page(Decision::Open));
        assert!(open.contains("value=\"succeed\"") && open.contains("value=\"fail\""));
        assert!(open.contains("12.34 USD"));
        assert!(open.contains("SO-&lt;b&gt;"), "escaped");
        for decided in [Decision::Approved, Decision::Refused, Decision::Abandoned] {
            assert!(!render(&page(decided)).contains("<form"));
        }
    }
}
