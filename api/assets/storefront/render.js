// The one way pages build markup: elements from plain values, text always as text.
// Nothing here parses HTML, so product names, errors and addresses can never inject any.

/**
 * An element: `h("a", { href: "/store", class: "brand" }, "shop")`.
 * Attributes: `on<event>` functions become listeners; `class`, `for` and ARIA names are
 * set as attributes; `value`, `checked`, `disabled`, `hidden` and similar as properties;
 * null, undefined and false leave the attribute out. Children: strings, numbers, nodes,
 * arrays of them; null and false are skipped.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (PROPERTIES.has(name)) {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

const PROPERTIES = new Set(["value", "checked", "disabled", "hidden", "required", "selected", "readOnly"]);

function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces what `parent` holds with `children`. */
export function mount(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
  return parent;
}

/** Says `message` to screen readers (and nothing on screen). */
export function announce(message) {
  const announcer = document.getElementById("announcer");
  if (!announcer) return;
  announcer.textContent = "";
  // A change of text is what a live region reads; the same message twice must be heard twice.
  requestAnimationFrame(() => (announcer.textContent = message));
}

/** A labelled form field: label, control, and an error line the control points at. */
export function field(label, control, hint) {
  const id = control.id || `f-${++fieldCount}`;
  control.id = id;
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  const describedBy = [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(" ");
  control.setAttribute("aria-describedby", describedBy);
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null,
    control,
    error,
  );
}
let fieldCount = 0;

/** Shows an error of the API under the field it names (`extensions.field`) in `form`,
 * or in the form's alert line when it names none of them. */
export function showError(form, error) {
  clearErrors(form);
  const control = error.field ? form.querySelector(`[name="${CSS.escape(error.field)}"]`) : null;
  if (control) {
    const line = document.getElementById(`${control.id}-error`);
    if (line) {
      line.textContent = error.message;
      line.hidden = false;
      control.setAttribute("aria-invalid", "true");
      control.focus();
      return;
    }
  }
  const alert = form.querySelector(".form-alert");
  if (alert) {
    alert.textContent = error.message;
    alert.hidden = false;
    alert.focus();
  }
}

export function clearErrors(form) {
  for (const line of form.querySelectorAll(".field-error, .form-alert")) {
    line.textContent = "";
    line.hidden = true;
  }
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
}

/** The alert line of a form: where an error that names no field is shown. */
export function formAlert() {
  return h("p", { class: "form-alert", role: "alert", tabindex: "-1", hidden: true });
}

/** An image that shows the placeholder when its URL cannot be loaded (offline, moved). */
export function image(src, alt, attributes = {}) {
  const img = h("img", { src: src || PLACEHOLDER, alt, loading: "lazy", decoding: "async", ...attributes });
  img.addEventListener("error", () => {
    if (!img.src.endsWith(PLACEHOLDER)) img.src = PLACEHOLDER;
  });
  return img;
}

const PLACEHOLDER = "/store/assets/placeholder.svg";

/** Runs `action` while `button` shows it is busy; the button cannot be pressed twice. */
export async function busy(button, action) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await action();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}
