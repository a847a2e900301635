// The cart: quantities, remove, save for later (users), discount code, country and
// shipping method with the totals checkout would charge, and saved carts (users).

import { gql } from "../api.js";
import * as carts from "../cart.js";
import { COUNTRIES, dateTime, money } from "../format.js";
import { announce, busy, field, formAlert, h, image, mount, showError } from "../render.js";
import { country, isSignedIn, setCountry } from "../session.js";

export async function render({ title }) {
  title("Cart");
  const root = h("section", { class: "cart-page" });
  const cart = await carts.currentCart();
  await draw(root, cart);
  return root;
}

/** Draws the page for `cart`, keeping the focus on the control that had it (its id
 * survives the redraw), so a keyboard user stays where they were. */
async function draw(root, cart) {
  const focused = document.activeElement?.id;
  const signedIn = isSignedIn();
  const items = cart?.items ?? [];
  const saved = cart?.savedItems ?? [];
  const redraw = (next) => draw(root, next);
  mount(
    root,
    h("h1", {}, "Your cart"),
    items.length === 0
      ? h("p", { class: "empty" }, "Your cart is empty. ", h("a", { href: "/store" }, "Find something you like"), ".")
      : h(
          "div",
          { class: "cart-grid" },
          h("ul", { class: "lines", "aria-label": "In your cart" }, items.map((line) => cartLine(line, redraw, signedIn))),
          h("div", { class: "cart-side" }, discountForm(cart, redraw), await summary(cart), h("a", { class: "button primary", href: "/store/checkout" }, "Check out")),
        ),
    saved.length ? [h("h2", {}, "Saved for later"), h("ul", { class: "lines", "aria-label": "Saved for later" }, saved.map((line) => savedLine(line, redraw)))] : null,
    signedIn ? await savedCarts(cart, redraw) : items.length ? h("p", { class: "hint" }, h("a", { href: "/store/signin?next=/store/cart" }, "Sign in"), " to save items for later; your cart comes with you.") : null,
  );
  const again = focused && document.getElementById(focused);
  if (again) again.focus();
}

function lineHeader(line) {
  const name = line.product.name;
  const images = line.variant.imageUrls.length ? line.variant.imageUrls : line.product.imageUrls;
  return [
    image(images[0], "", { width: 96, height: 72 }),
    h(
      "div",
      { class: "line-name" },
      h("a", { href: `/store/products/${encodeURIComponent(line.product.slug)}` }, name),
      line.variant.title !== "Default" ? h("p", { class: "variant-title" }, line.variant.title) : null,
      h("p", {}, money(line.variant.price), " each"),
      line.variant.inStock ? null : h("p", { class: "sold-out" }, "Sold out: remove it to check out"),
    ),
  ];
}

/** Runs a line's action from `button` (busy meanwhile): redraws the cart with its answer
 * and announces `message`, or shows the error in `form`. */
function actions(form, redraw) {
  return (button, action, message) =>
    busy(button, async () => {
      try {
        await redraw(await action());
        announce(message);
      } catch (error) {
        showError(form, error);
      }
    });
}

function cartLine(line, redraw, signedIn) {
  const id = line.variant.id;
  const label = `${line.product.name}${line.variant.title !== "Default" ? `, ${line.variant.title}` : ""}`;
  const quantity = h("input", { id: `qty-${id}`, name: "quantity", type: "number", min: 0, max: 999, value: line.quantity, inputmode: "numeric" });
  const alert = formAlert();
  const form = h("form", { class: "line-actions" }, h("label", { for: quantity.id }, "Quantity ", h("span", { class: "visually-hidden" }, `of ${label}`)), quantity, alert);
  const act = actions(form, redraw);
  quantity.addEventListener("change", () => {
    const units = Number(quantity.value);
    if (Number.isInteger(units) && units >= 0 && units <= 999) act(quantity, () => carts.setQuantity(id, units), `${label}: quantity ${units}`);
  });
  const remove = h("button", { type: "button", class: "link", id: `remove-${id}` }, "Remove", h("span", { class: "visually-hidden" }, ` ${label}`));
  remove.addEventListener("click", () => act(remove, () => carts.remove(id), `${label} removed`));
  const later = signedIn ? h("button", { type: "button", class: "link", id: `later-${id}` }, "Save for later", h("span", { class: "visually-hidden" }, `: ${label}`)) : null;
  later?.addEventListener("click", () => act(later, () => carts.saveForLater(id), `${label} saved for later`));
  form.append(remove, later ?? "");
  return h("li", { class: "line" }, lineHeader(line), form, h("p", { class: "line-total" }, money(line.lineTotal)));
}

function savedLine(line, redraw) {
  const id = line.variant.id;
  const label = line.product.name;
  const form = h("form", { class: "line-actions" }, formAlert());
  const back = h("button", { type: "button", class: "link", id: `back-${id}` }, "Move to cart", h("span", { class: "visually-hidden" }, `: ${label}`));
  const remove = h("button", { type: "button", class: "link", id: `drop-${id}` }, "Remove", h("span", { class: "visually-hidden" }, ` ${label}`));
  const act = actions(form, redraw);
  back.addEventListener("click", () => act(back, () => carts.moveToCart(id), `${label} moved to your cart`));
  remove.addEventListener("click", () => act(remove, () => carts.remove(id), `${label} removed`));
  form.append(back, remove);
  return h("li", { class: "line" }, lineHeader(line), form);
}

function discountForm(cart, redraw) {
  if (cart.discountCode) {
    const remove = h("button", { type: "button", class: "link", id: "remove-discount" }, "Remove code");
    const form = h("form", { class: "discount" }, h("p", {}, "Discount code ", h("strong", {}, cart.discountCode), " applied. "), remove, formAlert());
    remove.addEventListener("click", () =>
      busy(remove, async () => {
        try {
          await redraw(await carts.removeDiscount());
          announce("Discount code removed");
        } catch (error) {
          showError(form, error);
        }
      }),
    );
    return form;
  }
  const code = h("input", { name: "code", autocomplete: "off", autocapitalize: "characters", required: true });
  const apply = h("button", { type: "submit", id: "apply-discount" }, "Apply");
  const form = h("form", { class: "discount" }, field("Discount code", code), apply, formAlert());
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(apply, async () => {
      try {
        await redraw(await carts.applyDiscount(code.value.trim()));
        announce("Discount code applied");
      } catch (error) {
        showError(form, error);
      }
    });
  });
  return form;
}

/** Country, shipping method and the totals; redrawn in place when either changes. */
async function summary(cart) {
  const box = h("section", { class: "summary", "aria-labelledby": "summary-title" });
  let method = null;
  // Only the latest of overlapping answers is drawn (see the checkout page).
  let latest = 0;
  const drawSummary = async () => {
    const asked = ++latest;
    let quote;
    try {
      quote = await carts.quote(country(), method);
    } catch (error) {
      if (asked !== latest) return;
      mount(box, h("h2", { id: "summary-title" }, "Summary"), countryPicker(drawSummary), h("p", { role: "alert" }, error.message));
      return;
    }
    if (asked !== latest) return;
    method ??= quote.methods[0]?.id ?? null;
    mount(
      box,
      h("h2", { id: "summary-title" }, "Summary"),
      countryPicker(async () => {
        method = null;
        await drawSummary();
      }),
      shippingPicker(quote.methods, method, async (id) => {
        method = id;
        await drawSummary();
      }),
      totalsList(quote.totals, cart.discountCode),
    );
  };
  await drawSummary();
  return box;
}

function countryPicker(onChange) {
  const select = h(
    "select",
    { id: "country", name: "country", autocomplete: "country" },
    COUNTRIES.map(([code, name]) => h("option", { value: code, selected: code === country() }, name)),
  );
  select.addEventListener("change", () => {
    setCountry(select.value);
    onChange();
  });
  return field("Ship to", select);
}

export function shippingPicker(methods, selected, onChange) {
  if (!methods.length) return h("p", {}, "Shipping is free.");
  return h(
    "fieldset",
    { class: "shipping" },
    h("legend", {}, "Shipping method"),
    methods.map((method) => {
      const id = `ship-${method.id}`;
      const days = method.minDays != null ? ` · ${method.minDays}–${method.maxDays ?? method.minDays} days` : "";
      return h(
        "div",
        { class: "choice" },
        h("input", { type: "radio", name: "shippingMethodId", id, value: method.id, checked: method.id === selected, onchange: () => onChange(method.id) }),
        h("label", { for: id }, `${method.name} — ${money(method.price)}${days}`, method.freeOver ? h("span", { class: "note" }, ` (free over ${money(method.freeOver)})`) : null),
      );
    }),
  );
}

export function totalsList(totals, discountCode) {
  const row = (label, value, className) => [h("dt", { class: className }, label), h("dd", { class: className }, value)];
  return h(
    "dl",
    { class: "totals" },
    row("Subtotal", money(totals.subtotal)),
    Number(totals.discount.amount) > 0 ? row(`Discount${discountCode ? ` (${discountCode})` : ""}`, `−${money(totals.discount)}`) : null,
    row("Shipping", money(totals.shipping)),
    row("Tax", money(totals.tax)),
    row("Total", money(totals.total), "grand"),
  );
}

/** Users may put the whole cart aside under a name, and bring a saved cart back. */
async function savedCarts(cart, redraw) {
  const { me } = await gql(`query SavedCarts { me { savedCarts { id name createdAt items { quantity product { name } } } } }`);
  const list = me?.savedCarts ?? [];
  const name = h("input", { name: "name", maxlength: 100, required: true, placeholder: "e.g. Birthday party" });
  const save = h("button", { type: "submit", id: "save-cart" }, "Save cart");
  const form = h("form", { class: "save-cart" }, field("Save this cart for later as", name), save, formAlert());
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(save, async () => {
      try {
        await gql(`mutation SaveCart($name: String!) { saveCart(name: $name) { id } }`, { name: name.value.trim() });
        await redraw(await carts.currentCart());
        announce("Cart saved");
      } catch (error) {
        showError(form, error);
      }
    });
  });
  return h(
    "section",
    { class: "saved-carts" },
    h("h2", {}, "Saved carts"),
    cart?.items?.length ? form : null,
    list.length === 0
      ? h("p", { class: "hint" }, "No saved carts.")
      : h(
          "ul",
          {},
          list.map((saved) => {
            const restore = h("button", { type: "button", id: `restore-${saved.id}` }, "Restore", h("span", { class: "visually-hidden" }, ` ${saved.name}`));
            const remove = h("button", { type: "button", class: "link", id: `delete-${saved.id}` }, "Delete", h("span", { class: "visually-hidden" }, ` ${saved.name}`));
            restore.addEventListener("click", () =>
              busy(restore, async () => {
                await gql(`mutation Restore($id: ID!) { restoreSavedCart(id: $id) { id } }`, { id: saved.id });
                await redraw(await carts.currentCart());
                announce(`${saved.name} restored to your cart`);
              }),
            );
            remove.addEventListener("click", () =>
              busy(remove, async () => {
                await gql(`mutation Delete($id: ID!) { deleteSavedCart(id: $id) }`, { id: saved.id });
                await redraw(await carts.currentCart());
                announce(`${saved.name} deleted`);
              }),
            );
            const units = saved.items.reduce((sum, item) => sum + item.quantity, 0);
            return h("li", {}, h("strong", {}, saved.name), ` · ${units} item${units === 1 ? "" : "s"} · saved ${dateTime(saved.createdAt)} `, restore, " ", remove);
          }),
        ),
  );
}
