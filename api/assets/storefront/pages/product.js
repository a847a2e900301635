// A product: its images, the variant picker (sold-out variants shown and disabled),
// price with the compare-at ("was") price, and "Add to cart".

import { gql } from "../api.js";
import { addToCart } from "../cart.js";
import { money } from "../format.js";
import { announce, busy, formAlert, h, image, mount, showError } from "../render.js";

const PRODUCT = `query Product($slug: String!) {
  product(slug: $slug) {
    id name description imageUrls inStock
    category { name slug }
    options { name values }
    variants { id title inStock stock imageUrls price { ...Money } compareAtPrice { ...Money } }
  }
}`;

export async function render({ params, title }) {
  const { product } = await gql(PRODUCT, { slug: params.slug });
  if (!product) {
    title("Not found");
    return h("section", {}, h("h1", {}, "Product not found"), h("p", {}, h("a", { href: "/store" }, "Back to the shop")));
  }
  title(product.name);

  // The first variant that can be bought is chosen to start with.
  let chosen = product.variants.find((variant) => variant.inStock) ?? product.variants[0];
  const gallery = h("div", { class: "gallery" });
  const price = h("p", { class: "price big" });
  const stock = h("p", { class: "stock" });
  const quantity = h("input", { id: "quantity", name: "quantity", type: "number", min: 1, max: 999, value: 1, inputmode: "numeric", required: true });
  const add = h("button", { type: "submit", class: "primary" }, "Add to cart");
  const done = h("p", { class: "added", role: "status" });

  function drawVariant() {
    const images = chosen.imageUrls.length ? chosen.imageUrls : product.imageUrls;
    drawGallery(gallery, images, product.name);
    mount(
      price,
      h("span", { class: "now" }, money(chosen.price)),
      chosen.compareAtPrice ? [" ", h("s", { class: "was" }, h("span", { class: "visually-hidden" }, "was "), money(chosen.compareAtPrice))] : null,
    );
    stock.textContent = chosen.inStock ? (chosen.stock <= 5 ? `Only ${chosen.stock} left` : "In stock") : "Sold out";
    stock.className = chosen.inStock ? "stock" : "stock sold-out";
    add.disabled = !chosen.inStock;
    add.textContent = chosen.inStock ? "Add to cart" : "Sold out";
    quantity.max = Math.max(1, Math.min(999, chosen.stock));
  }

  const form = h(
    "form",
    { class: "buy", novalidate: true },
    product.options.length ? variantPicker(product, () => chosen, (variant) => {
      chosen = variant;
      drawVariant();
    }) : null,
    h("div", { class: "field narrow" }, h("label", { for: "quantity" }, "Quantity"), quantity),
    formAlert(),
    add,
    done,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(add, async () => {
      try {
        const units = Number(quantity.value) || 1;
        await addToCart(chosen.id, units);
        mount(done, `Added ${units} × ${product.name}${product.options.length ? ` (${chosen.title})` : ""} to your cart. `, h("a", { href: "/store/cart" }, "View cart"));
        announce("Added to cart");
      } catch (error) {
        showError(form, error);
      }
    }).then(drawVariant);
  });
  drawVariant();

  return h(
    "article",
    { class: "product" },
    h(
      "nav",
      { class: "crumbs", "aria-label": "Breadcrumb" },
      h("a", { href: "/store" }, "Shop"),
      product.category ? [" / ", h("a", { href: `/store?category=${encodeURIComponent(product.category.slug)}` }, product.category.name)] : null,
    ),
    gallery,
    h("div", { class: "details" }, h("h1", {}, product.name), price, stock, form, h("h2", {}, "Description"), h("p", { class: "description" }, product.description)),
  );
}

/** One large image and a button per image to show it. */
function drawGallery(gallery, urls, name) {
  const main = h("div", { class: "main-image" }, image(urls[0], name, { width: 640, height: 480, loading: "eager" }));
  const thumbs =
    urls.length > 1
      ? h(
          "ul",
          { class: "thumbs", "aria-label": "Images" },
          urls.map((url, i) =>
            h(
              "li",
              {},
              h(
                "button",
                { type: "button", "aria-label": `Show image ${i + 1} of ${urls.length}`, onclick: () => mount(main, image(url, name, { width: 640, height: 480 })) },
                image(url, "", { width: 80, height: 60 }),
              ),
            ),
          ),
        )
      : null;
  mount(gallery, main, thumbs);
}

/** The variants as one radio group: each one is a choice of every option at once, so a
 * sold-out combination is disabled and labelled without trapping the reader in a
 * combination they cannot leave. */
function variantPicker(product, current, choose) {
  const names = product.options.map((option) => option.name).join(" / ");
  return h(
    "fieldset",
    { class: "variants" },
    h("legend", {}, names),
    h(
      "div",
      { class: "choices" },
      product.variants.map((variant) => {
        const id = `variant-${variant.id}`;
        return h(
          "div",
          { class: `choice${variant.inStock ? "" : " unavailable"}` },
          h("input", {
            type: "radio",
            name: "variant",
            id,
            value: variant.id,
            checked: variant.id === current().id,
            disabled: !variant.inStock,
            onchange: () => choose(variant),
          }),
          h("label", { for: id }, variant.title, variant.inStock ? null : h("span", { class: "note" }, " (sold out)")),
        );
      }),
    ),
  );
}
