// Client-side routes under /store: links and the back button change the page without a
// reload; the server answers index.html for every such path, so deep links work too.

import { NAVIGATED, navigate } from "./navigation.js";
import { h, mount } from "./render.js";

export const BASE = "/store";

/** [pattern, loader]: a pattern's `:name` parts become the page's `params`. Pages load
 * when first visited, so the first page costs only its own module. */
const ROUTES = [
  ["", () => import("./pages/catalog.js")],
  ["products/:slug", () => import("./pages/product.js")],
  ["cart", () => import("./pages/cart.js")],
  ["checkout", () => import("./pages/checkout.js")],
  ["signin", () => import("./pages/account.js").then((m) => m.signInPage)],
  ["register", () => import("./pages/account.js").then((m) => m.registerPage)],
  ["account", () => import("./pages/account.js").then((m) => m.accountPage)],
  ["orders", () => import("./pages/orders.js").then((m) => m.historyPage)],
  ["orders/:number", () => import("./pages/orders.js").then((m) => m.orderPage)],
  ["forgot-password", () => import("./pages/password.js").then((m) => m.requestPage)],
  ["reset-password", () => import("./pages/password.js").then((m) => m.resetPage)],
  ["verify-email", () => import("./pages/verify.js")],
];

function match(path) {
  const rest = path.slice(BASE.length).replace(/^\/+|\/+$/g, "");
  const parts = rest === "" ? [] : rest.split("/");
  for (const [pattern, load] of ROUTES) {
    const expected = pattern === "" ? [] : pattern.split("/");
    if (expected.length !== parts.length) continue;
    const params = {};
    const fits = expected.every((part, i) => {
      if (part.startsWith(":")) {
        params[part.slice(1)] = decodeURIComponent(parts[i]);
        return true;
      }
      return part === parts[i];
    });
    if (fits) return { load, params };
  }
  return null;
}

let leaving = [];
let current = 0;

/**
 * Shows the page of the current address in `main`. A page module's `render(context)`
 * answers its content; `context` has `params`, `query` (URLSearchParams), `title(text)`
 * and `onLeave(fn)` (to end a subscription when the reader moves on).
 */
export async function show(main, { focus = true } = {}) {
  for (const stop of leaving) stop();
  leaving = [];
  const visit = ++current;
  const found = match(location.pathname);
  main.setAttribute("aria-busy", "true");
  let content;
  try {
    if (!found) {
      setTitle("Not found");
      content = h("section", {}, h("h1", {}, "Not found"), h("p", {}, "There is no page at this address. ", h("a", { href: BASE }, "Back to the shop")));
    } else {
      const page = await found.load();
      const context = {
        params: found.params,
        query: new URLSearchParams(location.search),
        title: setTitle,
        onLeave: (fn) => leaving.push(fn),
        isCurrent: () => visit === current,
      };
      content = await (page.render ?? page.default?.render)(context);
    }
  } catch (error) {
    content = h("section", {}, h("h1", {}, "Something went wrong"), h("p", { role: "alert" }, error.message ?? String(error)));
  }
  if (visit !== current) return;
  mount(main, content);
  main.removeAttribute("aria-busy");
  if (focus) {
    // The new page's heading is where a screen reader and the keyboard continue.
    const heading = main.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
    scrollTo(0, 0);
  }
}

function setTitle(text) {
  document.title = text ? `${text} · shop` : "shop";
}

/** Links to /store paths are followed without a reload; others (GraphiQL, the 3-D
 * Secure page) leave as usual. */
export function start(main) {
  document.addEventListener("click", (event) => {
    const link = event.target.closest?.("a[href]");
    if (!link || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || link.target) return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || !(url.pathname === BASE || url.pathname.startsWith(`${BASE}/`))) return;
    if (url.pathname.startsWith(`${BASE}/assets/`)) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
  addEventListener("popstate", () => show(main));
  addEventListener(NAVIGATED, () => show(main));
  return show(main, { focus: false });
}
