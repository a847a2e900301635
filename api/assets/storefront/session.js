// Who is shopping: the signed-in user's tokens, or the guest's cart id, kept in
// localStorage so that both survive a reload. Pages listen for "change" to redraw
// what depends on them (the header's cart count and account link).

const KEYS = { session: "shop.session", cart: "shop.guestCartId", country: "shop.country" };

export const events = new EventTarget();

function read(key) {
  try {
    return JSON.parse(localStorage.getItem(key) ?? "null");
  } catch {
    return null;
  }
}

function write(key, value) {
  if (value === null || value === undefined) localStorage.removeItem(key);
  else localStorage.setItem(key, JSON.stringify(value));
  events.dispatchEvent(new Event("change"));
}

/** The signed-in session: `{ accessToken, refreshToken, expiresAt, user }`, or null. */
export function session() {
  return read(KEYS.session);
}

export function isSignedIn() {
  return session() !== null;
}

/** Keeps an AuthPayload of the API (login, register, refreshToken). */
export function signIn(payload) {
  write(KEYS.session, {
    accessToken: payload.accessToken,
    refreshToken: payload.refreshToken,
    // A little early, so that a request never leaves with a token about to expire.
    expiresAt: Date.now() + (payload.expiresIn - 30) * 1000,
    user: payload.user,
  });
}

export function signOut() {
  write(KEYS.session, null);
}

/** The guest's cart id: the secret that is the only way back to that cart. */
export function guestCartId() {
  return read(KEYS.cart);
}

export function setGuestCartId(id) {
  write(KEYS.cart, id);
}

/** The country the customer last chose to ship to, for the cart's and checkout's totals. */
export function country() {
  return read(KEYS.country) ?? "US";
}

export function setCountry(code) {
  write(KEYS.country, code);
}

/** Another tab signed in or out, or changed the cart: this one follows. */
addEventListener("storage", (event) => {
  if (Object.values(KEYS).includes(event.key)) events.dispatchEvent(new Event("change"));
});
