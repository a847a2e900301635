// The page the email-verification link opens (`/store/verify-email?token=...`,
// SHOP_VERIFY_EMAIL_URL_TEMPLATE's default): it sends the token at once and says
// whether it worked; a used or expired link offers a fresh one to a signed-in reader.

import { gql } from "../api.js";
import { busy, h } from "../render.js";
import { isSignedIn } from "../session.js";

export async function render({ query, title }) {
  title("Verify your email");
  const token = query.get("token");
  // Out of the address bar: a link works once, and the history need not keep it.
  if (token) history.replaceState(null, "", "/store/verify-email");
  if (!token) return h("section", {}, h("h1", {}, "Verify your email"), h("p", {}, "This page needs the link from your email."));
  try {
    await gql(`mutation Verify($token: String!) { verifyEmail(token: $token) }`, { token });
    return h("section", {}, h("h1", {}, "Email verified"), h("p", { role: "status" }, "Thank you: your email address is verified. ", h("a", { href: "/store" }, "Back to the shop")));
  } catch (error) {
    if (error.code !== "BAD_USER_INPUT") throw error;
    const status = h("p", { role: "status" });
    const again = h("button", { type: "button" }, "Send me a new link");
    again.addEventListener("click", () =>
      busy(again, async () => {
        try {
          const sent = await gql(`mutation Again { requestEmailVerification }`);
          status.textContent = sent.requestEmailVerification ? "A new link is on its way." : "Your email is verified already.";
        } catch (failure) {
          status.textContent = failure.message;
        }
      }),
    );
    return h(
      "section",
      {},
      h("h1", {}, "This link does not work any more"),
      h("p", {}, "It was used already, has expired (links work for 72 hours), or was sent to an address the account no longer has."),
      isSignedIn() ? [again, status] : h("p", {}, h("a", { href: "/store/signin?next=/store/account" }, "Sign in"), " to ask for a new link."),
    );
  }
}
