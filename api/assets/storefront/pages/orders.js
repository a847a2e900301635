// The order history, and one order: its status live over the `orderUpdated`
// subscription, tracking, lines and totals. The order page is also where emails link
// to and where a payment page (3-D Secure) sends the customer back: an order still
// awaiting its payment is settled there with `confirmPayment`.

import { gql, subscribe } from "../api.js";
import { dateTime, money, orderStatus } from "../format.js";
import { announce, busy, h, mount } from "../render.js";
import { isSignedIn } from "../session.js";
import { totalsList } from "./cart.js";

const ORDER = `id number status placedAt updatedAt email shippingMethod discountCode
  items { productName variantTitle quantity unitPrice { ...Money } lineTotal { ...Money } product { slug } }
  totals { subtotal { ...Money } discount { ...Money } shipping { ...Money } tax { ...Money } total { ...Money } }
  tracking { carrier number url }
  payment { method status redirectUrl }
  refundedTotal { ...Money }
  shippingAddress { fullName line1 line2 city postalCode country }`;

function signInFirst(what, next) {
  return h("p", {}, h("a", { href: `/store/signin?next=${encodeURIComponent(next)}` }, "Sign in"), ` to see ${what}.`);
}

function statusBadge(status) {
  return h("span", { class: `status status-${status.toLowerCase()}`, "data-status": status }, orderStatus(status));
}

export const historyPage = {
  async render({ title }) {
    title("Your orders");
    if (!isSignedIn()) return h("section", {}, h("h1", {}, "Your orders"), signInFirst("your orders", "/store/orders"));
    const list = h("ul", { class: "order-list" });
    const more = h("button", { type: "button", class: "secondary", hidden: true }, "Load more");
    let cursor = null;
    const load = async () => {
      const { orders } = await gql(
        `query History($after: String) { orders(first: 20, after: $after) {
          totalCount pageInfo { hasNextPage endCursor } nodes { number status placedAt total { ...Money } items { quantity } } } }`,
        { after: cursor },
      );
      list.append(
        ...orders.nodes.map((order) => {
          const units = order.items.reduce((sum, item) => sum + item.quantity, 0);
          return h(
            "li",
            {},
            h("a", { href: `/store/orders/${encodeURIComponent(order.number)}` }, order.number),
            " ",
            statusBadge(order.status),
            h("span", { class: "meta" }, ` ${dateTime(order.placedAt)} · ${units} item${units === 1 ? "" : "s"} · ${money(order.total)}`),
          );
        }),
      );
      cursor = orders.pageInfo.endCursor;
      more.hidden = !orders.pageInfo.hasNextPage;
      return orders.totalCount;
    };
    more.addEventListener("click", () => busy(more, load));
    const total = await load();
    return h("section", { class: "history" }, h("h1", {}, "Your orders"), total ? [list, more] : h("p", {}, "No orders yet. ", h("a", { href: "/store" }, "Start shopping")));
  },
};

/** The caller's order with this number: the API has no lookup by number for a user, so
 * the history's numbers are paged through (newest first: a fresh order is on the first
 * page), and the order is then read by its id. */
async function findOrder(number) {
  let after = null;
  for (let page = 0; page < 20; page++) {
    const { orders } = await gql(
      `query Find($after: String) { orders(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { id number } } }`,
      { after },
    );
    const found = orders.nodes.find((order) => order.number === number);
    if (found) return readOrder(found.id);
    if (!orders.pageInfo.hasNextPage) return null;
    after = orders.pageInfo.endCursor;
  }
  return null;
}

async function readOrder(id) {
  return (await gql(`query Order($id: ID!) { order(id: $id) { ${ORDER} } }`, { id })).order;
}

export const orderPage = {
  async render({ params, title, onLeave, isCurrent }) {
    const number = params.number;
    title(`Order ${number}`);
    if (!isSignedIn()) {
      // Back from a payment page in a browser that is not signed in: the payment is still
      // settled (confirmPayment needs no login), and the order waits behind sign-in.
      const status = await confirm(number);
      return h(
        "section",
        {},
        h("h1", {}, `Order ${number}`),
        status ? h("p", {}, paymentLine(status)) : null,
        signInFirst("this order", `/store/orders/${number}`),
      );
    }
    let order = await findOrder(number);
    if (!order) return h("section", {}, h("h1", {}, "Order not found"), h("p", {}, `None of your orders has the number ${number}. `, h("a", { href: "/store/orders" }, "Your orders")));
    if (order.status === "PENDING") {
      // Reached from a payment page (or reloaded while paying): ask the gateway now.
      await confirm(number);
      order = (await readOrder(order.id)) ?? order;
    }

    const live = h("p", { class: "live-note" }, "Connecting for live updates…");
    const statusBox = h("div", { class: "order-status", role: "status", "aria-live": "polite" });
    const trackingBox = h("div", { class: "tracking" });
    const draw = (next) => {
      order = { ...order, ...next };
      mount(statusBox, h("p", {}, "Status: ", statusBadge(order.status)), order.payment ? h("p", {}, paymentLine(order.payment.status, order.payment.redirectUrl)) : null, explanation(order));
      mount(trackingBox, tracking(order.tracking));
    };
    draw({});

    const update = (next) => {
      const before = order.status;
      draw(next);
      if (before !== order.status) announce(`Order ${number} is now ${orderStatus(order.status)}`);
    };
    // The subscription ends when the access token expires or the connection drops: read
    // the order again (which refreshes the token) and listen anew, a few times at most.
    let stop = () => {};
    let left = 5;
    const listen = () => {
      stop = subscribe(`subscription Live($id: ID) { orderUpdated(orderId: $id) { ${ORDER} } }`, { id: order.id }, {
        onOpen: () => {
          live.textContent = "Live: this page updates when the order changes.";
          live.dataset.live = "on";
        },
        onNext: (data) => {
          left = 5;
          update(data.orderUpdated);
        },
        onError: () => {
          if (!isCurrent()) return;
          delete live.dataset.live;
          if (left-- <= 0) {
            live.textContent = "Live updates stopped; reload the page to see the latest status.";
            return;
          }
          live.textContent = "Reconnecting for live updates…";
          setTimeout(async () => {
            if (!isCurrent()) return;
            const fresh = await readOrder(order.id).catch(() => null);
            if (fresh) update(fresh);
            listen();
          }, 2000);
        },
      });
    };
    listen();
    onLeave(() => stop());

    return h(
      "article",
      { class: "order" },
      h("h1", {}, `Order ${order.number}`),
      h("p", { class: "meta" }, `Placed ${dateTime(order.placedAt)} · confirmation to ${order.email}`),
      statusBox,
      live,
      trackingBox,
      h("h2", {}, "Items"),
      h(
        "ul",
        { class: "summary-lines" },
        order.items.map((item) =>
          h(
            "li",
            {},
            h("span", {}, `${item.quantity} × `, item.product ? h("a", { href: `/store/products/${encodeURIComponent(item.product.slug)}` }, item.productName) : item.productName, item.variantTitle !== "Default" ? ` (${item.variantTitle})` : ""),
            h("span", {}, money(item.lineTotal)),
          ),
        ),
      ),
      totalsList(order.totals, order.discountCode),
      Number(order.refundedTotal.amount) > 0 ? h("p", {}, `Refunded: ${money(order.refundedTotal)}`) : null,
      h("h2", {}, "Shipping to"),
      h("address", {}, [order.shippingAddress.fullName, order.shippingAddress.line1, order.shippingAddress.line2, `${order.shippingAddress.postalCode} ${order.shippingAddress.city}`, order.shippingAddress.country].filter(Boolean).map((line) => h("span", { class: "address-line" }, line))),
      order.shippingMethod ? h("p", {}, `Delivery: ${order.shippingMethod}`) : null,
      h("p", {}, h("a", { href: "/store/orders" }, "All your orders")),
    );
  },
};

/** Settles a payment that waited for the customer; its status, or null when the shop
 * does not know the order. */
async function confirm(number) {
  try {
    const data = await gql(`mutation Confirm($number: String!) { confirmPayment(orderNumber: $number) }`, { number });
    return data.confirmPayment;
  } catch {
    return null;
  }
}

function paymentLine(status, redirectUrl) {
  switch (status) {
    case "SUCCEEDED":
      return "Payment received.";
    case "REQUIRES_ACTION":
      return redirectUrl ? ["The payment waits for you to finish it. ", h("a", { href: redirectUrl }, "Finish paying")] : "The payment waits for you to finish it.";
    case "PENDING":
      return "The payment is being processed.";
    case "FAILED":
      return "The payment did not go through; nothing was charged.";
    case "REFUNDED":
      return "The payment was refunded.";
    default:
      return "";
  }
}

function explanation(order) {
  switch (order.status) {
    case "PAID":
      return h("p", {}, "Thank you! We are getting your order ready to ship.");
    case "SHIPPED":
      return h("p", {}, "Your order is on its way.");
    case "DELIVERED":
      return h("p", {}, "Your order has arrived.");
    case "CANCELLED":
      return h("p", {}, "This order was cancelled. ", h("a", { href: "/store/cart" }, "Your cart"));
    default:
      return null;
  }
}

function tracking(info) {
  if (!info) return null;
  return h(
    "p",
    {},
    `Tracking: ${info.carrier} ${info.number}`,
    info.url ? [" · ", h("a", { href: info.url, target: "_blank", rel: "noopener noreferrer" }, "Track the parcel", h("span", { class: "visually-hidden" }, " (opens in a new tab)"))] : null,
  );
}
