// The storefront's entry: the header (cart count, account) and the router.

import { h, mount } from "./render.js";
import { start } from "./router.js";
import { events, isSignedIn, session } from "./session.js";
import { currentCart } from "./cart.js";

const nav = document.getElementById("nav");
let cartCount = 0;

function drawNav() {
  const user = session()?.user;
  mount(
    nav,
    h("li", {}, h("a", { href: "/store" }, "Shop")),
    h(
      "li",
      {},
      h("a", { href: "/store/cart", "aria-label": `Cart, ${cartCount} item${cartCount === 1 ? "" : "s"}` }, "Cart ", h("span", { class: "count", "aria-hidden": "true" }, cartCount)),
    ),
    user
      ? [h("li", {}, h("a", { href: "/store/orders" }, "Orders")), h("li", {}, h("a", { href: "/store/account" }, user.username))]
      : h("li", {}, h("a", { href: "/store/signin" }, "Sign in")),
  );
}

events.addEventListener("cart", (event) => {
  cartCount = event.detail?.totalQuantity ?? 0;
  drawNav();
});

let signedIn = isSignedIn();
events.addEventListener("change", () => {
  // Signing in or out changes whose cart counts.
  if (isSignedIn() !== signedIn) {
    signedIn = isSignedIn();
    currentCart().catch(() => {});
  }
  drawNav();
});

drawNav();
start(document.getElementById("main"));
currentCart().catch(() => {});
