// Password reset: ask for a link by email, and the page that link opens
// (`/store/reset-password?token=...`, SHOP_RESET_PASSWORD_URL_TEMPLATE's default).

import { gql } from "../api.js";
import { busy, field, formAlert, h, mount, showError } from "../render.js";

export const requestPage = {
  async render({ title }) {
    title("Forgot your password?");
    const email = h("input", { name: "email", type: "email", autocomplete: "email", required: true });
    const submit = h("button", { type: "submit", class: "primary" }, "Email me a link");
    const done = h("div", { role: "status" });
    const form = h("form", { class: "auth" }, field("Email", email), formAlert(), submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(submit, async () => {
        try {
          await gql(`mutation Forgot($email: String!) { requestPasswordReset(email: $email) }`, { email: email.value.trim() });
          // The API answers the same for every address, so nobody learns who has an account.
          mount(done, h("p", {}, `If ${email.value.trim()} belongs to an account, a link to set a new password is on its way. It works once, for 30 minutes.`));
          form.hidden = true;
        } catch (error) {
          showError(form, error);
        }
      });
    });
    return h("section", { class: "auth-page" }, h("h1", {}, "Forgot your password?"), h("p", {}, "We will email you a link to set a new one."), form, done);
  },
};

export const resetPage = {
  async render({ query, title }) {
    title("Set a new password");
    const token = query.get("token");
    if (token) {
      // Out of the address bar and the history: the token is as good as a password.
      history.replaceState(null, "", "/store/reset-password");
      sessionStorage.setItem("shop.resetToken", token);
    }
    const held = token ?? sessionStorage.getItem("shop.resetToken");
    if (!held) {
      return h("section", {}, h("h1", {}, "Set a new password"), h("p", {}, "This page needs the link from your email. ", h("a", { href: "/store/forgot-password" }, "Ask for a new link")));
    }
    const password = h("input", { name: "newPassword", type: "password", autocomplete: "new-password", required: true, minlength: 8, maxlength: 128 });
    const submit = h("button", { type: "submit", class: "primary" }, "Set password");
    const done = h("div", { role: "status" });
    const form = h("form", { class: "auth" }, field("New password", password, "8 to 128 characters"), formAlert(), submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(submit, async () => {
        try {
          await gql(`mutation Reset($token: String!, $password: String!) { resetPassword(token: $token, newPassword: $password) }`, { token: held, password: password.value });
          sessionStorage.removeItem("shop.resetToken");
          form.hidden = true;
          mount(done, h("p", {}, "Your password is set. ", h("a", { href: "/store/signin" }, "Sign in with it")));
        } catch (error) {
          if (error.field === "token") {
            sessionStorage.removeItem("shop.resetToken");
            showError(form, { message: "This link has expired or was used already. Ask for a new one on the “Forgot your password?” page." });
          } else {
            showError(form, error);
          }
        }
      });
    });
    return h("section", { class: "auth-page" }, h("h1", {}, "Set a new password"), form, done);
  },
};
