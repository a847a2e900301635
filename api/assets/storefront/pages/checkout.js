// Checkout: address, shipping method, payment method and card, then the order. A guest
// signs in or registers first (their cart comes with them): the API keeps an order's
// user required (issue 14), so a guest cannot check out yet.

import { gql } from "../api.js";
import * as carts from "../cart.js";
import { COUNTRIES, money } from "../format.js";
import { busy, field, formAlert, h, mount, showError } from "../render.js";
import { navigate } from "../navigation.js";
import { country, isSignedIn, setCountry } from "../session.js";
import { registerForm, signInForm } from "./account.js";
import { shippingPicker, totalsList } from "./cart.js";

/** The test gateway's cards, by the token its payment form would produce. */
const TEST_CARDS = [
  ["tok_visa", "Visa (pays)"],
  ["tok_chargeDeclined", "Declined card"],
  ["tok_threeDSecureRequired", "3-D Secure card"],
];

export async function render({ title }) {
  title("Checkout");
  if (!isSignedIn()) {
    const again = () => navigate("/store/checkout", { replace: true });
    return h(
      "section",
      { class: "checkout" },
      h("h1", {}, "Checkout"),
      h(
        "p",
        { class: "notice" },
        "To check out, sign in or create an account. Your cart comes with you: its items are added to your account's cart.",
      ),
      h("div", { class: "two-columns" }, signInForm(again), registerForm(again)),
    );
  }
  const [cart, { me, paymentMethods }] = await Promise.all([
    carts.currentCart(),
    gql(`query CheckoutData { me { email defaultAddress { fullName line1 line2 city postalCode country } } paymentMethods { code name requiresToken } }`),
  ]);
  if (!cart?.items.length) {
    return h("section", {}, h("h1", {}, "Checkout"), h("p", {}, "Your cart is empty. ", h("a", { href: "/store" }, "Back to the shop")));
  }
  const saved = me?.defaultAddress;
  if (saved && COUNTRIES.some(([code]) => code === saved.country)) setCountry(saved.country);

  let method = null;
  const shippingBox = h("div", { class: "shipping-box" });
  const totalsBox = h("div", { class: "totals-box", "aria-live": "polite" });
  // Quick changes (country, then method) overlap: only the latest answer is drawn, so a
  // slower earlier one cannot show the totals of a choice already changed.
  let latestQuote = 0;
  const drawQuote = async () => {
    const asked = ++latestQuote;
    try {
      // Without a method the API prices the cheapest, which is the first it lists.
      const quote = await carts.quote(country(), method);
      if (asked !== latestQuote) return;
      method ??= quote.methods[0]?.id ?? null;
      mount(
        shippingBox,
        shippingPicker(quote.methods, method, (id) => {
          method = id;
          drawQuote();
        }),
      );
      mount(totalsBox, totalsList(quote.totals, cart.discountCode));
    } catch (error) {
      if (asked !== latestQuote) return;
      mount(shippingBox, h("p", { role: "alert" }, error.message));
      mount(totalsBox);
    }
  };

  const input = (name, value, attributes = {}) => h("input", { name, value: value ?? "", ...attributes });
  const countrySelect = h(
    "select",
    { name: "country", autocomplete: "country", required: true },
    COUNTRIES.map(([code, label]) => h("option", { value: code, selected: code === country() }, label)),
  );
  countrySelect.addEventListener("change", () => {
    setCountry(countrySelect.value);
    method = null;
    drawQuote();
  });

  const cardChoice = h(
    "fieldset",
    { class: "cards" },
    h("legend", {}, "Card (test gateway: no money moves)"),
    TEST_CARDS.map(([token, label], i) =>
      h("div", { class: "choice" }, h("input", { type: "radio", name: "paymentToken", id: `card-${token}`, value: token, checked: i === 0 }), h("label", { for: `card-${token}` }, label)),
    ),
  );
  const unsupported = h("p", { class: "notice", hidden: true });
  const payment = h(
    "fieldset",
    { class: "payment" },
    h("legend", {}, "Payment method"),
    paymentMethods.map((pm, i) =>
      h(
        "div",
        { class: "choice" },
        h("input", { type: "radio", name: "paymentMethod", id: `pay-${pm.code}`, value: pm.code, checked: i === 0, onchange: () => drawPayment(pm) }),
        h("label", { for: `pay-${pm.code}` }, pm.name),
      ),
    ),
  );
  const place = h("button", { type: "submit", class: "primary" }, "Place order");
  function drawPayment(pm) {
    const test = pm?.code === "test";
    // Gateways that send the buyer to their own page need no form here.
    const redirect = pm && !pm.requiresToken;
    cardChoice.hidden = !test;
    unsupported.hidden = test;
    unsupported.textContent = test
      ? ""
      : redirect
        ? `You will approve the payment on ${pm.name}'s page, then come back to your order.`
        : `${pm?.name ?? "This method"} needs its own payment form (e.g. Stripe.js), which this demo storefront does not include; choose the test gateway.`;
    place.disabled = !(test || redirect);
  }

  const form = h(
    "form",
    { class: "checkout-form", novalidate: true },
    h(
      "fieldset",
      { class: "address" },
      h("legend", {}, "Shipping address"),
      field("Full name", input("fullName", saved?.fullName, { autocomplete: "name", required: true })),
      field("Address line 1", input("line1", saved?.line1, { autocomplete: "address-line1", required: true })),
      field("Address line 2 (optional)", input("line2", saved?.line2, { autocomplete: "address-line2" })),
      field("City", input("city", saved?.city, { autocomplete: "address-level2", required: true })),
      field("Postal code", input("postalCode", saved?.postalCode, { autocomplete: "postal-code", required: true })),
      field("Country", countrySelect),
    ),
    shippingBox,
    payment,
    cardChoice,
    unsupported,
    h("section", { class: "summary", "aria-labelledby": "order-summary" }, h("h2", { id: "order-summary" }, "Order summary"), orderLines(cart), totalsBox),
    formAlert(),
    place,
  );
  drawPayment(paymentMethods[0]);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const address = Object.fromEntries(["fullName", "line1", "line2", "city", "postalCode", "country"].map((name) => [name, String(data.get(name) ?? "").trim()]));
    if (!address.line2) delete address.line2;
    busy(place, async () => {
      try {
        const { checkout } = await gql(
          `mutation Checkout($input: CheckoutInput!) { checkout(input: $input) { number status payment { status redirectUrl } } }`,
          {
            input: {
              shippingAddress: address,
              shippingMethodId: method,
              paymentMethod: data.get("paymentMethod"),
              // Only the test gateway's cards are tokens; a redirect gateway takes none.
              paymentToken: data.get("paymentMethod") === "test" ? data.get("paymentToken") : null,
              // One key per press of the button: a press repeated by a flaky network
              // returns the same order instead of charging twice.
              idempotencyKey: crypto.randomUUID(),
            },
          },
        );
        await carts.currentCart().catch(() => {});
        if (checkout.payment?.status === "REQUIRES_ACTION" && checkout.payment.redirectUrl) {
          // The bank's (here: the test gateway's) page; it sends the customer back to
          // the order page, which asks the API how the payment ended.
          location.assign(checkout.payment.redirectUrl);
          return;
        }
        navigate(`/store/orders/${encodeURIComponent(checkout.number)}`);
      } catch (error) {
        if (error.code === "PAYMENT_DECLINED") {
          showError(form, { message: "Your card was declined. Nothing was charged, and your cart is as it was: try another card." });
        } else {
          showError(form, error);
        }
      }
    });
  });
  await drawQuote();
  return h("section", { class: "checkout" }, h("h1", {}, "Checkout"), h("p", {}, `Signed in; order emails go to ${me.email}.`), form);
}

function orderLines(cart) {
  return h(
    "ul",
    { class: "summary-lines" },
    cart.items.map((line) =>
      h("li", {}, `${line.quantity} × ${line.product.name}${line.variant.title !== "Default" ? ` (${line.variant.title})` : ""}`, h("span", {}, money(line.lineTotal))),
    ),
  );
}
