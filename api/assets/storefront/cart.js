// The cart, whoever holds it: a guest's by the id kept in localStorage, a signed-in
// user's own (no id needed). Every function answers the cart as the API now has it and
// tells the page (and the header's count) through the "cart" event.

import { ApiError, gql } from "./api.js";
import { events, guestCartId, isSignedIn, setGuestCartId } from "./session.js";

const LINE = `quantity lineTotal { ...Money }
  product { id name slug imageUrls }
  variant { id title imageUrls stock inStock price { ...Money } compareAtPrice { ...Money } }`;

export const CART_FIELDS = `id totalQuantity discountCode subtotal { ...Money }
  items { ${LINE} } savedItems { ${LINE} }`;

/** The cart id to send: the guest's, or none for a user (their own cart). */
function cartId() {
  return isSignedIn() ? null : guestCartId();
}

function changed(cart) {
  events.dispatchEvent(new CustomEvent("cart", { detail: cart }));
  return cart;
}

/** The current cart, or null when a guest has none yet (or theirs expired). */
export async function currentCart() {
  const id = cartId();
  if (!isSignedIn() && !id) return null;
  try {
    const data = await gql(`query Cart($id: ID) { cart(id: $id) { ${CART_FIELDS} } }`, { id });
    return changed(data.cart);
  } catch (error) {
    // A guest cart left unchanged too long is deleted by the shop: start afresh.
    if (error instanceof ApiError && error.code === "NOT_FOUND" && id) {
      setGuestCartId(null);
      return changed(null);
    }
    throw error;
  }
}

/** Adds `quantity` units of a variant, creating the guest's cart on the first add. */
export async function addToCart(variantId, quantity = 1) {
  if (!isSignedIn() && !guestCartId()) {
    const data = await gql(`mutation NewCart { createCart { id } }`);
    setGuestCartId(data.createCart.id);
  }
  return mutate(
    `mutation Add($variantId: ID, $quantity: Int!, $cartId: ID) {
      addToCart(variantId: $variantId, quantity: $quantity, cartId: $cartId) { ${CART_FIELDS} } }`,
    "addToCart",
    { variantId, quantity },
  );
}

export function setQuantity(variantId, quantity) {
  return mutate(
    `mutation Quantity($variantId: ID, $quantity: Int!, $cartId: ID) {
      updateCartItem(variantId: $variantId, quantity: $quantity, cartId: $cartId) { ${CART_FIELDS} } }`,
    "updateCartItem",
    { variantId, quantity },
  );
}

export function remove(variantId) {
  return mutate(
    `mutation Remove($variantId: ID, $cartId: ID) {
      removeFromCart(variantId: $variantId, cartId: $cartId) { ${CART_FIELDS} } }`,
    "removeFromCart",
    { variantId },
  );
}

/** Users only: the API keeps "saved for later" with the account. */
export function saveForLater(variantId) {
  return mutate(
    `mutation Save($variantId: ID) { saveForLater(variantId: $variantId) { ${CART_FIELDS} } }`,
    "saveForLater",
    { variantId },
    false,
  );
}

export function moveToCart(variantId) {
  return mutate(
    `mutation Back($variantId: ID) { moveToCart(variantId: $variantId) { ${CART_FIELDS} } }`,
    "moveToCart",
    { variantId },
    false,
  );
}

export function applyDiscount(code) {
  return mutate(
    `mutation Discount($code: String!, $cartId: ID) {
      applyDiscountCode(code: $code, cartId: $cartId) { ${CART_FIELDS} } }`,
    "applyDiscountCode",
    { code },
  );
}

export function removeDiscount() {
  return mutate(
    `mutation NoDiscount($cartId: ID) { removeDiscountCode(cartId: $cartId) { ${CART_FIELDS} } }`,
    "removeDiscountCode",
    {},
  );
}

async function mutate(document, name, variables, withCartId = true) {
  const data = await gql(document, withCartId ? { ...variables, cartId: cartId() } : variables);
  return changed(data[name]);
}

/** What checkout would charge, shipped to `country` by `shippingMethodId` (the cheapest
 * when null), with the methods that ship there. */
export async function quote(country, shippingMethodId) {
  const data = await gql(
    `query Quote($id: ID, $country: String!, $method: ID) {
      shippingMethods(country: $country) { id name minDays maxDays price { ...Money } freeOver { ...Money } }
      cart(id: $id) { totals(country: $country, shippingMethodId: $method) {
        subtotal { ...Money } discount { ...Money } shipping { ...Money } tax { ...Money } total { ...Money } } }
    }`,
    { id: cartId(), country, method: shippingMethodId },
  );
  return { methods: data.shippingMethods, totals: data.cart.totals };
}
