//! The links in emails. They lead to the storefront's pages (this server serves none of
//! them), so where those pages live is configuration: a template per link, checked at
//! start.

use std::fmt;

/// A link template such as `{public_url}/orders/{number}`: text with placeholders in
/// braces, each one of a fixed set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkTemplate {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Placeholder(String),
}

/// Why a template was refused; its message names the setting and the fix.
#[derive(Debug, PartialEq, Eq)]
pub struct TemplateError {
    setting: &'static str,
    problem: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.setting, self.problem)
    }
}

impl std::error::Error for TemplateError {}

impl LinkTemplate {
    /// Parses `template` for the setting `setting`: it must contain `required`, and may
    /// contain only placeholders from `allowed` (which includes `required`).
    pub fn parse(
        setting: &'static str,
        template: &str,
        required: &str,
        allowed: &[&str],
    ) -> Result<Self, TemplateError> {
        let refuse = |problem: String| TemplateError { setting, problem };
        let listed = || {
            allowed
                .iter()
                .map(|name| format!("{{{name}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find(['{', '}']) {
            if rest[open..].starts_with('}') {
                return Err(refuse(format!(
                    "has a `}}` that closes no placeholder: {template:?}"
                )));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| refuse(format!("has a `{{` that is never closed: {template:?}")))?;
            let name = &after[..close];
            if !allowed.contains(&name) {
                return Err(refuse(format!(
                    "has an unknown placeholder {{{name}}}; it may use {}",
                    listed()
                )));
            }
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            parts.push(Part::Placeholder(name.to_owned()));
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        if !parts.contains(&Part::Placeholder(required.to_owned())) {
            return Err(refuse(format!(
                "must contain {{{required}}}, e.g. {{public_url}}/...{{{required}}}; it may use {}",
                listed()
            )));
        }
        Ok(Self { parts })
    }

    /// The link, each placeholder replaced by its value from `values`. `{public_url}` is
    /// the operator's own URL and goes in as it is; every other value is percent-encoded,
    /// so a value can never change the link's path or query.
    pub fn render(&self, values: &[(&str, &str)]) -> String {
        let mut link = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => link.push_str(text),
                Part::Placeholder(name) => {
                    let value = values
                        .iter()
                        .find(|(key, _)| key == name)
                        .map_or("", |(_, value)| value);
                    if name == PUBLIC_URL {
                        link.push_str(value);
                    } else {
                        percent_encode(value, &mut link);
                    }
                }
            }
        }
        link
    }
}

/// Keeps RFC 3986's unreserved characters and percent-encodes every other byte.
fn percent_encode(value: &str, out: &mut String) {
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

const PUBLIC_URL: &str = "public_url";

/// Every link the emails carry, ready to render.
#[derive(Clone, Debug)]
pub struct Links {
    /// The storefront's address (no trailing slash).
    public_url: String,
    order: LinkTemplate,
    reset_password: LinkTemplate,
    verify_email: LinkTemplate,
    payment_return: LinkTemplate,
}

/// The link templates as configured, one per storefront page.
pub struct LinkTemplates<'a> {
    pub order: &'a str,
    pub reset_password: &'a str,
    pub verify_email: &'a str,
    /// Where a payment gateway's page sends the customer back to.
    pub payment_return: &'a str,
}

impl Links {
    /// Checks every template; an error names the setting at fault.
    pub fn new(public_url: String, templates: LinkTemplates<'_>) -> anyhow::Result<Self> {
        Ok(Self {
            order: LinkTemplate::parse(
                "SHOP_ORDER_URL_TEMPLATE",
                templates.order,
                "number",
                &[PUBLIC_URL, "number"],
            )?,
            reset_password: LinkTemplate::parse(
                "SHOP_RESET_PASSWORD_URL_TEMPLATE",
                templates.reset_password,
                "token",
                &[PUBLIC_URL, "token"],
            )?,
            verify_email: LinkTemplate::parse(
                "SHOP_VERIFY_EMAIL_URL_TEMPLATE",
                templates.verify_email,
                "token",
                &[PUBLIC_URL, "token"],
            )?,
            payment_return: LinkTemplate::parse(
                "SHOP_PAYMENT_RETURN_URL_TEMPLATE",
                templates.payment_return,
                "number",
                &[PUBLIC_URL, "number"],
            )?,
            public_url,
        })
    }

    /// The storefront's home page.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The storefront's page of the order numbered `number`.
    pub fn order(&self, number: &str) -> String {
        self.order
            .render(&[(PUBLIC_URL, &self.public_url), ("number", number)])
    }

    /// Where a payment gateway's page (3-D Secure, PayPal's approval) sends the customer
    /// of the order numbered `number` back to.
    pub fn payment_return(&self, number: &str) -> String {
        self.payment_return
            .render(&[(PUBLIC_URL, &self.public_url), ("number", number)])
    }

    /// The storefront's page that sets a new password with `token`.
    pub fn reset_password(&self, token: &str) -> String {
        self.reset_password
            .render(&[(PUBLIC_URL, &self.public_url), ("token", token)])
    }

    /// The storefront's page that verifies an email address with `token`.
    pub fn verify_email(&self, token: &str) -> String {
        self.verify_email
            .render(&[(PUBLIC_URL, &self.public_url), ("token", token)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(template: &str) -> Result<LinkTemplate, TemplateError> {
        LinkTemplate::parse("SHOP_X", template, "number", &[PUBLIC_URL, "number"])
    }

    #[test]
    fn the_default_links_lead_to_the_storefront_pages() {
        let links = Links::new(
            "https://shop.example".into(),
            LinkTemplates {
                order: crate::config::DEFAULT_ORDER_URL_TEMPLATE,
                reset_password: crate::config::DEFAULT_RESET_PASSWORD_URL_TEMPLATE,
                verify_email: crate::config::DEFAULT_VERIFY_EMAIL_URL_TEMPLATE,
                payment_return: crate::config::DEFAULT_PAYMENT_RETURN_URL_TEMPLATE,
            },
        )
        .expect("the defaults are valid");

        assert_eq!(links.order("SO-42"), "https://shop.example/orders/SO-42");
        assert_eq!(
            links.reset_password("abc_DEF-1"),
            "https://shop.example/reset-password?token=abc_DEF-1"
        );
        assert_eq!(
            links.verify_email("abc_DEF-1"),
            "https://shop.example/verify-email?token=abc_DEF-1"
        );
    }

    #[test]
    fn values_are_percent_encoded_but_the_public_url_is_not() {
        let template = order("{public_url}/o?n={number}").expect("valid");

        let link = template.render(&[
            (PUBLIC_URL, "https://shop.example/en"),
            ("number", "a b&c=/d"),
        ]);

        assert_eq!(link, "https://shop.example/en/o?n=a%20b%26c%3D%2Fd");
    }

    #[test]
    fn a_template_without_its_placeholder_is_refused_naming_it() {
        let err = order("{public_url}/orders").expect_err("refused");

        assert!(
            err.to_string().starts_with("SHOP_X must contain {number}"),
            "{err}"
        );
    }

    #[test]
    fn unknown_placeholders_and_stray_braces_are_refused() {
        let unknown = order("{public_url}/orders/{id}/{number}").expect_err("refused");
        assert!(
            unknown.to_string().contains("unknown placeholder {id}"),
            "{unknown}"
        );
        assert!(order("{public_url}/orders/{number").is_err());
        assert!(order("{public_url}/orders/}{number}").is_err());
        assert!(order("https://elsewhere.example/{number}").is_ok());
    }
}
