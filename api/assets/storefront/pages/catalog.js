// The catalog: the category tree, and the products with search, filters, sort and
// "Load more" (cursor pagination). The filters live in the address, so a filtered list
// can be bookmarked, shared and returned to with the back button.

import { gql } from "../api.js";
import { money } from "../format.js";
import { h, image, mount, announce, busy } from "../render.js";
import { navigate } from "../navigation.js";

const PAGE_SIZE = 24;

/** sort choice -> [sortKey, reverse] */
const SORTS = {
  newest: ["CREATED_AT", true],
  "price-asc": ["PRICE", false],
  "price-desc": ["PRICE", true],
  name: ["NAME", false],
  relevance: ["RELEVANCE", false],
};

let categoriesOnce = null;
function categories() {
  categoriesOnce ??= gql(`query Tree { categories { id name slug children { id name slug children { id name slug } } } }`)
    .then((data) => data.categories)
    .catch((error) => {
      categoriesOnce = null;
      throw error;
    });
  return categoriesOnce;
}

function findCategory(tree, slug) {
  for (const category of tree) {
    if (category.slug === slug) return category;
    const below = findCategory(category.children ?? [], slug);
    if (below) return below;
  }
  return null;
}

const PRODUCTS = `query Products($first: Int!, $after: String, $filter: ProductFilter, $sortKey: ProductSortKey, $reverse: Boolean) {
  products(first: $first, after: $after, filter: $filter, sortKey: $sortKey, reverse: $reverse) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id name slug inStock imageUrls
      priceRange { min { ...Money } max { ...Money } }
      variants { compareAtPrice { ...Money } } }
  }
}`;

export async function render({ query, title }) {
  const slug = query.get("category") ?? "";
  // The products need the category's id, which the tree has: without a category, both
  // are asked for at once.
  const treeLoading = categories();
  // Awaited below; until then, a failure must not count as unhandled.
  treeLoading.catch(() => {});
  const tree = slug ? await treeLoading : null;
  const category = slug ? findCategory(tree, slug) : null;
  const search = query.get("q") ?? "";
  const sort = SORTS[query.get("sort")] ? query.get("sort") : search ? "relevance" : "newest";
  const inStock = query.get("inStock") === "1";
  const minPrice = query.get("min") ?? "";
  const maxPrice = query.get("max") ?? "";
  title(category?.name ?? (search ? `Search: ${search}` : "Shop"));

  const filter = {
    ...(search ? { search } : {}),
    ...(category ? { categoryId: category.id } : {}),
    ...(inStock ? { inStock: true } : {}),
    ...(minPrice ? { minPrice } : {}),
    ...(maxPrice ? { maxPrice } : {}),
  };
  const [sortKey, reverse] = SORTS[sort];
  const list = h("ul", { class: "product-grid", "aria-label": "Products" });
  const status = h("p", { class: "result-count", role: "status" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Load more");
  let cursor = null;

  async function load() {
    const data = await gql(PRODUCTS, { first: PAGE_SIZE, after: cursor, filter, sortKey, reverse });
    const page = data.products;
    const firstNew = list.children.length;
    list.append(...page.nodes.map(card));
    status.textContent = `${page.totalCount} product${page.totalCount === 1 ? "" : "s"}`;
    cursor = page.pageInfo.endCursor;
    more.hidden = !page.pageInfo.hasNextPage;
    return firstNew;
  }
  more.addEventListener("click", () =>
    busy(more, async () => {
      const firstNew = await load();
      // Keyboard users carry on from the first product the button brought.
      list.children[firstNew]?.querySelector("a")?.focus();
      announce(`${list.children.length} products shown`);
    }),
  );
  await load();
  const categoryTreeData = tree ?? (await treeLoading);

  return h(
    "div",
    { class: "catalog" },
    h("aside", { class: "categories" }, h("h2", {}, "Categories"), categoryTree(categoryTreeData, category?.slug, query)),
    h(
      "section",
      { class: "listing" },
      h("h1", {}, category?.name ?? "All products"),
      filters({ search, sort, inStock, minPrice, maxPrice, slug }),
      status,
      list.children.length ? list : h("p", { class: "empty" }, "No products match. Try fewer filters."),
      more,
    ),
  );
}

function categoryTree(tree, selected, query) {
  const link = (category) => {
    const next = new URLSearchParams(query);
    next.delete("category");
    if (category) next.set("category", category.slug);
    const href = `/store${next.size ? `?${next}` : ""}`;
    const current = (category?.slug ?? undefined) === (selected ?? undefined);
    return h("a", { href, "aria-current": current ? "page" : null }, category?.name ?? "All products");
  };
  const branch = (categories) =>
    h("ul", {}, categories.map((category) => h("li", {}, link(category), category.children?.length ? branch(category.children) : null)));
  return h("nav", { "aria-label": "Categories" }, h("ul", {}, h("li", {}, link(null))), branch(tree));
}

function filters({ search, sort, inStock, minPrice, maxPrice, slug }) {
  const form = h(
    "form",
    { class: "filters", role: "search" },
    h("div", { class: "field grow" }, h("label", { for: "q" }, "Search"), h("input", { id: "q", name: "q", type: "search", value: search, placeholder: "e.g. lamp" })),
    h(
      "div",
      { class: "field" },
      h("label", { for: "sort" }, "Sort by"),
      h(
        "select",
        { id: "sort", name: "sort" },
        [
          ["relevance", "Best match"],
          ["newest", "Newest"],
          ["price-asc", "Price: low to high"],
          ["price-desc", "Price: high to low"],
          ["name", "Name"],
        ].map(([value, label]) => h("option", { value, selected: value === sort }, label)),
      ),
    ),
    h("div", { class: "field narrow" }, h("label", { for: "min" }, "Min price"), h("input", { id: "min", name: "min", inputmode: "decimal", value: minPrice, pattern: "\\d+(\\.\\d{1,2})?" })),
    h("div", { class: "field narrow" }, h("label", { for: "max" }, "Max price"), h("input", { id: "max", name: "max", inputmode: "decimal", value: maxPrice, pattern: "\\d+(\\.\\d{1,2})?" })),
    h("div", { class: "field check" }, h("input", { id: "in-stock", name: "inStock", type: "checkbox", value: "1", checked: inStock }), h("label", { for: "in-stock" }, "In stock only")),
    h("button", { type: "submit" }, "Apply"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    if (slug) next.set("category", slug);
    for (const [name, value] of new FormData(form)) if (value) next.set(name, value);
    navigate(`/store${next.size ? `?${next}` : ""}`);
  });
  // A new sort applies at once: there is nothing else to fill in for it.
  form.querySelector("#sort").addEventListener("change", () => form.requestSubmit());
  return form;
}

function card(product) {
  const { min, max } = product.priceRange;
  const wasPrice = product.variants.find((variant) => variant.compareAtPrice)?.compareAtPrice;
  return h(
    "li",
    { class: "card" },
    h(
      "a",
      { href: `/store/products/${encodeURIComponent(product.slug)}` },
      image(product.imageUrls[0], "", { width: 320, height: 240 }),
      h("span", { class: "name" }, product.name),
    ),
    h(
      "p",
      { class: "price" },
      min.amount === max.amount ? money(min) : `From ${money(min)}`,
      wasPrice ? [" ", h("s", { "aria-label": `was ${money(wasPrice)}` }, money(wasPrice))] : null,
    ),
    product.inStock ? null : h("p", { class: "badge sold-out" }, "Sold out"),
  );
}
