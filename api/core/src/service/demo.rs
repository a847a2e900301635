//! A deterministic demo catalog, so a fresh checkout shows a real-looking shop.

use std::collections::HashMap;

use chrono::{Duration, TimeZone, Utc};
use entity::{category, discount_code, product, product_variant, shipping_method, tax_rate, user};
use rand::{Rng, SeedableRng, rngs::StdRng};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
};

use crate::{
    auth::Auth,
    db,
    domain::{
        Countries, Email, ImageUrls, Password, ProductOptions, SelectedOption, Selection, Slug,
        Username,
    },
    error::{AppError, AppResult},
    service::accounts::{self, NewUser},
};

/// (root, [(subcategory, nouns, price range in whole units, sizes)]); products of a
/// subcategory with sizes come in every size and two colours.
type Tree = [(
    &'static str,
    &'static [(
        &'static str,
        &'static [&'static str],
        (i64, i64),
        &'static [&'static str],
    )],
)];

const TREE: &Tree = &[
    (
        "Electronics",
        &[
            (
                "Laptops",
                &["Laptop", "Ultrabook", "Notebook", "Chromebook"],
                (299, 2499),
                &[],
            ),
            (
                "Phones",
                &["Smartphone", "Phone Case", "Charger", "Screen Protector"],
                (9, 1199),
                &[],
            ),
            (
                "Audio",
                &["Headphones", "Earbuds", "Speaker", "Soundbar"],
                (19, 599),
                &[],
            ),
            (
                "Cameras",
                &["Camera", "Lens", "Tripod", "Camera Bag"],
                (29, 1899),
                &[],
            ),
        ],
    ),
    (
        "Home & Kitchen",
        &[
            (
                "Kitchen",
                &["Chef Knife", "Frying Pan", "Kettle", "Coffee Grinder"],
                (12, 249),
                &[],
            ),
            (
                "Furniture",
                &["Desk", "Bookshelf", "Armchair", "Side Table"],
                (49, 899),
                &[],
            ),
            (
                "Lighting",
                &["Desk Lamp", "Floor Lamp", "Pendant Light", "String Lights"],
                (15, 299),
                &[],
            ),
        ],
    ),
    (
        "Clothing",
        &[
            (
                "Tops",
                &["T-Shirt", "Hoodie", "Sweater", "Flannel Shirt"],
                (12, 129),
                &["S", "M", "L", "XL"],
            ),
            (
                "Bottoms",
                &["Jeans", "Chinos", "Shorts", "Joggers"],
                (19, 149),
                &["28", "30", "32", "34", "36"],
            ),
            (
                "Shoes",
                &["Sneakers", "Running Shoes", "Boots", "Sandals"],
                (29, 229),
                &["40", "41", "42", "43", "44", "45"],
            ),
        ],
    ),
    (
        "Sports & Outdoors",
        &[
            (
                "Camping",
                &["Tent", "Sleeping Bag", "Backpack", "Headlamp"],
                (15, 499),
                &[],
            ),
            (
                "Fitness",
                &["Yoga Mat", "Kettlebell", "Resistance Band", "Jump Rope"],
                (8, 199),
                &[],
            ),
            (
                "Cycling",
                &[
                    "Bike Helmet",
                    "Bike Light",
                    "Cycling Gloves",
                    "Water Bottle",
                ],
                (9, 249),
                &[],
            ),
        ],
    ),
    (
        "Books",
        &[
            (
                "Fiction",
                &["Novel", "Short Story Collection", "Mystery", "Fantasy Saga"],
                (8, 39),
                &[],
            ),
            (
                "Science",
                &[
                    "Physics Primer",
                    "Astronomy Guide",
                    "Biology Handbook",
                    "Math Puzzles",
                ],
                (12, 69),
                &[],
            ),
            (
                "Cooking",
                &["Cookbook", "Baking Guide", "Spice Atlas", "Grill Manual"],
                (14, 59),
                &[],
            ),
        ],
    ),
];

const ADJECTIVES: &[&str] = &[
    "Classic",
    "Compact",
    "Deluxe",
    "Essential",
    "Lightweight",
    "Modern",
    "Premium",
    "Rugged",
    "Sleek",
    "Smart",
    "Vintage",
    "Eco",
    "Pro",
    "Ultra",
    "Everyday",
    "Travel",
];
const MATERIALS: &[&str] = &[
    "Aluminum", "Bamboo", "Carbon", "Ceramic", "Cotton", "Leather", "Oak", "Steel", "Walnut",
    "Wool", "Glass", "Recycled",
];
const COLORS: &[&str] = &[
    "Black", "White", "Slate", "Forest", "Navy", "Sand", "Crimson", "Teal",
];

/// What seeding did.
#[derive(Debug, PartialEq, Eq)]
pub enum Seeded {
    Catalog { categories: usize, products: u32 },
    AlreadyPresent,
}

/// Fills an empty catalog with `product_count` products in two levels of categories, the
/// same every time. A catalog that already has products is left alone.
pub async fn seed_catalog(db: &DatabaseConnection, product_count: u32) -> AppResult<Seeded> {
    if product::Entity::find().count(db).await? > 0 {
        return Ok(Seeded::AlreadyPresent);
    }
    let mut rng = StdRng::seed_from_u64(0x5409);
    let epoch = Utc
        .with_ymd_and_hms(2026, 1, 1, 9, 0, 0)
        .single()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("bad demo epoch")))?;
    let txn = db::begin_write(db).await?;

    let mut leaves = Vec::new();
    let mut categories = 0;
    for (root_name, subcategories) in TREE {
        let root = insert_category(&txn, root_name, None, epoch).await?;
        categories += 1;
        for (name, nouns, prices, sizes) in subcategories.iter() {
            let leaf = insert_category(&txn, name, Some(root.id), epoch).await?;
            categories += 1;
            leaves.push((leaf.id, *nouns, *prices, *sizes));
        }
    }

    let mut products = Vec::with_capacity(500);
    let mut variants_by_slug = Vec::with_capacity(product_count as usize);
    for i in 0..product_count {
        let (category_id, nouns, (low, high), sizes) = leaves[i as usize % leaves.len()];
        let noun = nouns[rng.random_range(0..nouns.len())];
        let colour = COLORS[rng.random_range(0..COLORS.len())];
        let name = format!(
            "{} {} {} {}",
            ADJECTIVES[rng.random_range(0..ADJECTIVES.len())],
            colour,
            MATERIALS[rng.random_range(0..MATERIALS.len())],
            noun
        );
        let slug = Slug::from_name(&name, "product").with_suffix(i + 1);
        let whole = rng.random_range(low..=high);
        let cents = [99, 49, 0, 95][rng.random_range(0..4)];
        let sku = format!("DEMO-{:06}", i + 1);
        let plan = DemoVariants::plan(&mut rng, sku, whole * 100 + cents, colour, sizes);
        let created = epoch + Duration::minutes(i64::from(i) * 7);
        products.push(product::ActiveModel {
            name: Set(name.clone()),
            slug: Set(slug.to_string()),
            description: Set(format!(
                "The {name} is built for daily use: {} construction, a {} finish and a \
                 two-year warranty. Ships in recyclable packaging.",
                MATERIALS[rng.random_range(0..MATERIALS.len())].to_lowercase(),
                COLORS[rng.random_range(0..COLORS.len())].to_lowercase(),
            )),
            sku: Set(plan
                .variants
                .first()
                .and_then(|variant| variant.sku.clone())),
            price_cents: Set(plan.lowest_price()),
            stock: Set(plan.total_stock()),
            category_id: Set(Some(category_id)),
            options: Set(plan.options.to_stored()),
            image_urls: Set(format!("[\"https://picsum.photos/seed/{slug}/640/480\"]")),
            archived: Set(false),
            created_at: Set(created),
            updated_at: Set(created),
            ..Default::default()
        });
        variants_by_slug.push((slug.to_string(), created, plan.variants));
        if products.len() == 500 {
            product::Entity::insert_many(std::mem::take(&mut products))
                .exec(&txn)
                .await?;
        }
    }
    if !products.is_empty() {
        product::Entity::insert_many(products).exec(&txn).await?;
    }

    // Bulk inserts do not say which ids they gave: read them back by slug.
    let ids: HashMap<String, i32> = product::Entity::find()
        .select_only()
        .column(product::Column::Slug)
        .column(product::Column::Id)
        .into_tuple::<(String, i32)>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    let mut variants = Vec::with_capacity(500);
    for (slug, created, planned) in variants_by_slug {
        let product_id = *ids
            .get(&slug)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("demo product {slug} vanished")))?;
        for (position, variant) in (0..).zip(planned) {
            variants.push(product_variant::ActiveModel {
                product_id: Set(product_id),
                position: Set(position),
                selected_options: Set(variant.selection.to_stored()),
                sku: Set(variant.sku),
                price_cents: Set(variant.price_cents),
                compare_at_cents: Set(variant.compare_at_cents),
                stock: Set(variant.stock),
                image_urls: Set(ImageUrls::default().to_stored()),
                archived: Set(false),
                created_at: Set(created),
                updated_at: Set(created),
                ..Default::default()
            });
            if variants.len() == 500 {
                product_variant::Entity::insert_many(std::mem::take(&mut variants))
                    .exec(&txn)
                    .await?;
            }
        }
    }
    if !variants.is_empty() {
        product_variant::Entity::insert_many(variants)
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(Seeded::Catalog {
        categories,
        products: product_count,
    })
}

/// One variant a demo product will have.
struct DemoVariant {
    selection: Selection,
    sku: Option<String>,
    price_cents: i64,
    compare_at_cents: Option<i64>,
    stock: i32,
}

/// The options and variants of a demo product: one "Default" variant, or, for clothing,
/// every size in two colours, some of them sold out.
struct DemoVariants {
    options: ProductOptions,
    variants: Vec<DemoVariant>,
}

impl DemoVariants {
    fn plan(rng: &mut StdRng, sku: String, price_cents: i64, colour: &str, sizes: &[&str]) -> Self {
        // One in four products is on sale: its compare-at price is a fifth higher.
        let compare_at = rng
            .random_ratio(1, 4)
            .then_some(price_cents + price_cents / 5 + 100);
        let mut stock = || {
            if rng.random_ratio(1, 6) {
                0
            } else {
                rng.random_range(1..=60)
            }
        };
        if sizes.is_empty() {
            return Self {
                options: ProductOptions::default(),
                variants: vec![DemoVariant {
                    selection: Selection::default(),
                    sku: Some(sku),
                    price_cents,
                    compare_at_cents: compare_at,
                    stock: stock(),
                }],
            };
        }
        let other = COLORS
            .iter()
            .find(|other| **other != colour)
            .copied()
            .unwrap_or("Black");
        let raw = [
            (
                "Size".to_owned(),
                sizes.iter().map(|size| (*size).to_owned()).collect(),
            ),
            (
                "Colour".to_owned(),
                vec![colour.to_owned(), other.to_owned()],
            ),
        ];
        // Our own names and values: they always parse.
        let options = ProductOptions::parse(&raw, "demo options").unwrap_or_default();
        let mut variants = Vec::new();
        for (index, size) in sizes.iter().enumerate() {
            // The largest sizes take more cloth.
            let extra = if index + 2 > sizes.len() { 200 } else { 0 };
            for colour in [colour, other] {
                let picks = [
                    SelectedOption {
                        name: "Size".into(),
                        value: (*size).into(),
                    },
                    SelectedOption {
                        name: "Colour".into(),
                        value: colour.into(),
                    },
                ];
                let Ok(selection) = options.select(&picks) else {
                    continue;
                };
                variants.push(DemoVariant {
                    selection,
                    sku: Some(format!("{sku}-{size}-{}", colour.to_uppercase())),
                    price_cents: price_cents + extra,
                    compare_at_cents: compare_at.map(|was| was + extra),
                    stock: stock(),
                });
            }
        }
        Self { options, variants }
    }

    fn lowest_price(&self) -> i64 {
        self.variants
            .iter()
            .map(|variant| variant.price_cents)
            .min()
            .unwrap_or_default()
    }

    fn total_stock(&self) -> i32 {
        self.variants.iter().map(|variant| variant.stock).sum()
    }
}

async fn insert_category(
    txn: &sea_orm::DatabaseTransaction,
    name: &str,
    parent_id: Option<i32>,
    at: chrono::DateTime<Utc>,
) -> AppResult<category::Model> {
    Ok(category::ActiveModel {
        name: Set(name.to_owned()),
        slug: Set(Slug::from_name(name, "category").to_string()),
        description: Set(Some(format!("Everything in {name}."))),
        parent_id: Set(parent_id),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

/// A shipping method of the demo.
struct DemoShipping {
    name: &'static str,
    price_cents: i64,
    free_over_cents: Option<i64>,
    countries: &'static [&'static str],
    days: (i32, i32),
}

/// The demo's shipping methods. Standard goes everywhere; Express to the country of the
/// README's examples (its addresses are in GB) and a few others.
const SHIPPING: &[DemoShipping] = &[
    DemoShipping {
        name: "Standard",
        price_cents: 495,
        free_over_cents: Some(5_000),
        countries: &[],
        days: (3, 5),
    },
    DemoShipping {
        name: "Express",
        price_cents: 1_495,
        free_over_cents: None,
        countries: &["GB", "IE", "FR", "DE", "NL", "US"],
        days: (1, 2),
    },
];

/// The demo's tax rates, in basis points: the standard VAT of the United Kingdom and
/// Germany.
const TAX_RATES: &[(&str, i32)] = &[("GB", 2_000), ("DE", 1_900)];

/// What seeding shipping and tax did.
#[derive(Debug, PartialEq, Eq)]
pub enum SeededShipping {
    Added { methods: usize, tax_rates: usize },
    AlreadyPresent,
}

/// Adds two shipping methods and the tax rates of GB and DE to a shop that has neither
/// shipping methods nor tax rates, so that the demo's carts and orders show real totals. A
/// shop with either is left alone: its owner has set shipping and tax up.
pub async fn seed_shipping_and_tax(db: &DatabaseConnection) -> AppResult<SeededShipping> {
    let txn = db::begin_write(db).await?;
    let methods = shipping_method::Entity::find().count(&txn).await?;
    let rates = tax_rate::Entity::find().count(&txn).await?;
    if methods > 0 || rates > 0 {
        return Ok(SeededShipping::AlreadyPresent);
    }
    let now = Utc::now();
    for method in SHIPPING {
        let countries = Countries::parse(method.countries, "the demo's shipping countries")?;
        shipping_method::ActiveModel {
            name: Set(method.name.to_owned()),
            price_cents: Set(method.price_cents),
            free_over_cents: Set(method.free_over_cents),
            countries: Set(countries.to_stored()),
            min_days: Set(Some(method.days.0)),
            max_days: Set(Some(method.days.1)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    for (country, basis_points) in TAX_RATES {
        tax_rate::ActiveModel {
            country: Set((*country).to_owned()),
            rate_basis_points: Set(*basis_points),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(SeededShipping::Added {
        methods: SHIPPING.len(),
        tax_rates: TAX_RATES.len(),
    })
}

/// The demo's discount code: 10% off a subtotal of 20.00 or more, once per customer.
pub const DEMO_DISCOUNT_CODE: &str = "WELCOME10";

/// Adds [`DEMO_DISCOUNT_CODE`] to a shop without discount codes, so that the demo's carts
/// can show a discount. Answers whether it did; a shop with codes of its own is left alone.
pub async fn seed_discount_code(db: &DatabaseConnection) -> AppResult<bool> {
    let txn = db::begin_write(db).await?;
    if discount_code::Entity::find().count(&txn).await? > 0 {
        return Ok(false);
    }
    let now = Utc::now();
    discount_code::ActiveModel {
        code: Set(DEMO_DISCOUNT_CODE.to_owned()),
        percent_off_bp: Set(Some(1_000)),
        amount_off_cents: Set(None),
        min_subtotal_cents: Set(Some(2_000)),
        usage_limit: Set(None),
        times_used: Set(0),
        once_per_customer: Set(true),
        starts_at: Set(None),
        ends_at: Set(None),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// The demo's admin account: created with a fresh random password when the shop has no
/// admin yet. Answers the username and password to print, or `None` when an admin exists.
pub async fn ensure_demo_admin(
    db: &DatabaseConnection,
    auth: &Auth,
) -> AppResult<Option<(String, String)>> {
    let admins = user::Entity::find()
        .filter(user::Column::IsAdmin.eq(true))
        .count(db)
        .await?;
    if admins > 0 {
        return Ok(None);
    }
    let password = format!("demo-{:016x}", rand::random::<u64>());
    // Values of our own that always parse; the labels would name them if one did not.
    let username = Username::parse("admin", "the demo admin's username")?;
    let new_admin = NewUser {
        email: Email::parse("admin@shop.example", "the demo admin's email")?,
        password: Password::parse(&password, &username, "the demo admin's password")?,
        username,
        is_admin: true,
    };
    let (admin, _) = accounts::create_admin(db, auth, new_admin).await?;
    Ok(Some((admin.username, password)))
}
