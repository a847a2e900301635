//! The messages, as askama templates: HTML (auto-escaped, so a product name can never
//! inject markup) and plain text for every kind.

use askama::Template;

pub struct Welcome {
    pub username: String,
    /// The link that verifies the address, and how many hours it works.
    pub verify_url: Option<String>,
    pub verify_hours: i64,
}

pub struct OrderLine {
    pub name: String,
    pub quantity: i32,
    pub unit_price: String,
    pub total: String,
}

/// One row of an order's breakdown above its total: "Subtotal", "Discount (SPRING10)"...
pub struct SummaryLine {
    pub label: String,
    pub amount: String,
}

pub struct OrderMail {
    pub heading: String,
    pub intro: String,
    pub number: String,
    /// Where the parcel is: in the shipped email, when the admin recorded it.
    pub tracking: Option<TrackingLines>,
    pub lines: Vec<OrderLine>,
    /// How the total came about: subtotal, discount, shipping, tax (the rows that apply).
    pub summary: Vec<SummaryLine>,
    pub total: String,
    pub address: Vec<String>,
    pub order_url: String,
}

pub struct TrackingLines {
    pub carrier: String,
    pub number: String,
    pub url: Option<String>,
}

pub struct RefundMail {
    pub heading: String,
    pub number: String,
    pub amount: String,
    pub reason: Option<String>,
    pub refunded_total: String,
    pub total: String,
    pub order_url: String,
}

pub struct PasswordResetMail {
    pub username: String,
    pub reset_url: String,
    pub token: String,
    pub minutes: i64,
}

pub struct EmailVerificationMail {
    pub username: String,
    pub verify_url: String,
    pub hours: i64,
}

#[derive(Template)]
#[template(path = "mail/welcome.html")]
pub struct WelcomeHtml<'a> {
    pub m: &'a Welcome,
    pub shop_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/welcome.txt")]
pub struct WelcomeText<'a> {
    pub m: &'a Welcome,
    pub shop_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/order.html")]
pub struct OrderHtml<'a> {
    pub m: &'a OrderMail,
    pub shop_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/order.txt")]
pub struct OrderText<'a> {
    pub m: &'a OrderMail,
    pub shop_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/refund.html")]
pub struct RefundHtml<'a> {
    pub m: &'a RefundMail,
    pub shop_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/refund.txt")]
pub struct RefundText<'a> {
    pub m: &'a RefundMail,
    pub shop_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/password_reset.html")]
pub struct PasswordResetHtml<'a> {
    pub m: &'a PasswordResetMail,
    pub shop_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/password_reset.txt")]
pub struct PasswordResetText<'a> {
    pub m: &'a PasswordResetMail,
    pub shop_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/email_verification.html")]
pub struct EmailVerificationHtml<'a> {
    pub m: &'a EmailVerificationMail,
    pub shop_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/email_verification.txt")]
pub struct EmailVerificationText<'a> {
    pub m: &'a EmailVerificationMail,
    pub shop_url: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_what_customers_and_admins_typed() {
        let mail = OrderMail {
            heading: "Thanks".into(),
            intro: "x".into(),
            number: "SO-1".into(),
            tracking: Some(TrackingLines {
                carrier: "<i>UPS</i>".into(),
                number: "1Z".into(),
                url: Some("https://ups.example/t?a=1&b=\"><script>".into()),
            }),
            lines: vec![OrderLine {
                name: "<script>alert(1)</script>".into(),
                quantity: 1,
                unit_price: "1.00".into(),
                total: "1.00".into(),
            }],
            summary: vec![SummaryLine {
                label: "Discount (<i>X</i>)".into(),
                amount: "-1.00".into(),
            }],
            total: "1.00".into(),
            address: vec!["<b>Ann</b>".into()],
            order_url: "https://shop.example/orders/SO-1".into(),
        };
        let html = OrderHtml {
            m: &mail,
            shop_url: "https://shop.example",
        }
        .render()
        .expect("renders");
        assert!(!html.contains("<script>") && html.contains("&#60;script&#62;"));
        assert!(!html.contains("<b>Ann</b>"));
        assert!(!html.contains("<i>X</i>"));
        assert!(!html.contains("<i>UPS</i>") && !html.contains("\"><script>"));
        let text = OrderText {
            m: &mail,
            shop_url: "https://shop.example",
        }
        .render()
        .expect("renders");
        assert!(text.contains("1 x <script>alert(1)</script> at 1.00 = 1.00"));
    }

    #[test]
    fn a_refund_mail_escapes_the_reason_and_leaves_it_out_when_there_is_none() {
        let mut mail = RefundMail {
            heading: "Refund".into(),
            number: "SO-1".into(),
            amount: "5.00 USD".into(),
            reason: Some("<b>dented</b>".into()),
            refunded_total: "5.00 USD".into(),
            total: "20.00 USD".into(),
            order_url: "https://shop.example/orders/SO-1".into(),
        };
        let shop_url = "https://shop.example";
        let html = RefundHtml { m: &mail, shop_url }.render().expect("renders");
        assert!(!html.contains("<b>dented</b>") && html.contains("dented"));
        let text = RefundText { m: &mail, shop_url }.render().expect("renders");
        assert!(text.contains("Reason: <b>dented</b>") && text.contains("5.00 USD of 20.00 USD"));
        mail.reason = None;
        let text = RefundText { m: &mail, shop_url }.render().expect("renders");
        assert!(!text.contains("Reason"));
    }
}
