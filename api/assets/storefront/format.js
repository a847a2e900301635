// How values of the API read on the page.

/** `{ amount: "19.99", currencyCode: "USD" }` as "$19.99". The amount goes to Intl as a
 * string, which formats the decimal exactly (no float in between). */
export function money(value) {
  if (!value) return "";
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: value.currencyCode }).format(
      value.amount,
    );
  } catch {
    return `${value.amount} ${value.currencyCode}`;
  }
}

/** A DateTime as the reader's local date and time. */
export function dateTime(text) {
  const date = new Date(text);
  return Number.isNaN(date.getTime())
    ? text
    : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

const STATUS = {
  PENDING: "Awaiting payment",
  PAID: "Paid",
  SHIPPED: "Shipped",
  DELIVERED: "Delivered",
  CANCELLED: "Cancelled",
};

/** An order status as a customer reads it; the code stays in the badge's data. */
export function orderStatus(status) {
  return STATUS[status] ?? status;
}

/** The countries the storefront offers at the cart and checkout, by ISO 3166-1 code.
 * A real shop lists those its shipping methods reach. */
export const COUNTRIES = [
  ["US", "United States"],
  ["GB", "United Kingdom"],
  ["DE", "Germany"],
  ["FR", "France"],
  ["IE", "Ireland"],
  ["NL", "Netherlands"],
  ["ES", "Spain"],
  ["IT", "Italy"],
  ["CA", "Canada"],
  ["AU", "Australia"],
];
