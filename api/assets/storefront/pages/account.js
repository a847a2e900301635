// Signing in and registering (the guest's cart merges into the account's), and the
// account page: who is signed in, email verification, sign out.

import { AUTH_FIELDS, gql } from "../api.js";
import { currentCart } from "../cart.js";
import { announce, busy, field, formAlert, h, showError } from "../render.js";
import { navigate } from "../navigation.js";
import { guestCartId, session, setGuestCartId, signIn, signOut } from "../session.js";

/** Where to go after signing in: a /store path from `?next=`, never another site. */
function nextPath(query) {
  const next = query.get("next") ?? "";
  return next.startsWith("/store") && !next.startsWith("//") ? next : "/store";
}

/** Keeps the session, and forgets the guest cart the API has just merged. */
async function started(payload, then) {
  signIn(payload);
  setGuestCartId(null);
  await currentCart().catch(() => {});
  announce(`Signed in as ${payload.user.username}`);
  then();
}

/** The sign-in form; `then` runs once signed in. */
export function signInForm(then) {
  const username = h("input", { name: "username", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h(
    "form",
    { class: "auth", "aria-labelledby": "signin-title" },
    h("h2", { id: "signin-title" }, "Sign in"),
    field("Username or email", username),
    field("Password", password),
    formAlert(),
    submit,
    h("p", {}, h("a", { href: "/store/forgot-password" }, "Forgot your password?")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      try {
        const data = await gql(`mutation SignIn($input: LoginInput!) { login(input: $input) { ${AUTH_FIELDS} } }`, {
          input: { username: username.value.trim(), password: password.value, cartId: guestCartId() },
        });
        await started(data.login, then);
      } catch (error) {
        showError(form, error);
      }
    });
  });
  return form;
}

/** The registration form; `then` runs once the account exists and is signed in. */
export function registerForm(then) {
  const username = h("input", { name: "username", autocomplete: "username", required: true, minlength: 3, maxlength: 32 });
  const email = h("input", { name: "email", type: "email", autocomplete: "email", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 8, maxlength: 128 });
  const submit = h("button", { type: "submit", class: "primary" }, "Create account");
  const form = h(
    "form",
    { class: "auth", "aria-labelledby": "register-title" },
    h("h2", { id: "register-title" }, "New here? Create an account"),
    field("Username", username, "3 to 32 letters, digits, _ . or -"),
    field("Email", email),
    field("Password", password, "At least 8 characters"),
    formAlert(),
    submit,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      try {
        const data = await gql(`mutation Register($input: RegisterInput!) { register(input: $input) { ${AUTH_FIELDS} } }`, {
          input: { username: username.value.trim(), email: email.value.trim(), password: password.value, cartId: guestCartId() },
        });
        await started(data.register, then);
      } catch (error) {
        showError(form, error);
      }
    });
  });
  return form;
}

export const signInPage = {
  async render({ query, title }) {
    title("Sign in");
    const next = nextPath(query);
    return h(
      "section",
      { class: "auth-page" },
      h("h1", {}, "Sign in or create an account"),
      guestCartId() ? h("p", {}, "Your cart comes with you.") : null,
      h("div", { class: "two-columns" }, signInForm(() => navigate(next, { replace: true })), registerForm(() => navigate(next, { replace: true }))),
    );
  },
};

export const registerPage = signInPage;

export const accountPage = {
  async render({ title }) {
    title("Account");
    if (!session()) {
      return h("section", {}, h("h1", {}, "Account"), h("p", {}, h("a", { href: "/store/signin?next=/store/account" }, "Sign in"), " to see your account."));
    }
    const { me } = await gql(`query Me { me { username email emailVerified createdAt } }`);
    const out = h("button", { type: "button" }, "Sign out");
    out.addEventListener("click", () =>
      busy(out, async () => {
        const refreshToken = session()?.refreshToken;
        // The session ends on the server too, not only in this browser.
        if (refreshToken) await gql(`mutation Out($t: String!) { logout(refreshToken: $t) }`, { t: refreshToken }).catch(() => {});
        signOut();
        navigate("/store", { replace: true });
      }),
    );
    const verifyStatus = h("p", { role: "status" });
    const verify = h("button", { type: "button" }, "Send a new verification link");
    verify.addEventListener("click", () =>
      busy(verify, async () => {
        try {
          const sent = await gql(`mutation Verify { requestEmailVerification }`);
          verifyStatus.textContent = sent.requestEmailVerification ? `A link is on its way to ${me.email}.` : "Your email is verified already.";
        } catch (error) {
          verifyStatus.textContent = error.message;
        }
      }),
    );
    return h(
      "section",
      { class: "account" },
      h("h1", {}, "Your account"),
      h("dl", { class: "facts" }, h("dt", {}, "Username"), h("dd", {}, me.username), h("dt", {}, "Email"), h("dd", {}, me.email, " ", me.emailVerified ? h("span", { class: "badge ok" }, "verified") : h("span", { class: "badge" }, "not verified"))),
      me.emailVerified ? null : h("div", {}, verify, verifyStatus),
      h("p", {}, h("a", { href: "/store/orders" }, "Your orders"), " · ", h("a", { href: "/store/cart" }, "Your cart and saved carts")),
      out,
    );
  },
};
