// Moving to another storefront page from a page's own code (after a sign-in, a checkout,
// a filter). Kept apart from router.js, which loads the pages: a page that imported the
// router would import the module that imports it.

/** The event router.js answers by showing the page of the new address. */
export const NAVIGATED = "store:navigated";

/** Goes to `href` (a /store path) as a link would. */
export function navigate(href, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  dispatchEvent(new Event(NAVIGATED));
}
