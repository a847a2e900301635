//! A deterministic demo catalog, so a fresh checkout shows a real-looking shop.

use chrono::{Duration, TimeZone, Utc};
use entity::{category, product, user};
use rand::{Rng, SeedableRng, rngs::StdRng};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};

use crate::{
    auth::Auth,
    db,
    domain::{Email, Password, Slug, Username},
    error::{AppError, AppResult},
    service::accounts::{self, NewUser},
};

/// (root, [(subcategory, nouns, price range in whole units)])
type Tree = [(
    &'static str,
    &'static [(&'static str, &'static [&'static str], (i64, i64))],
)];

const TREE: &Tree = &[
    (
        "Electronics",
        &[
            (
                "Laptops",
                &["Laptop", "Ultrabook", "Notebook", "Chromebook"],
                (299, 2499),
            ),
            (
                "Phones",
                &["Smartphone", "Phone Case", "Charger", "Screen Protector"],
                (9, 1199),
            ),
            (
                "Audio",
                &["Headphones", "Earbuds", "Speaker", "Soundbar"],
                (19, 599),
            ),
            (
                "Cameras",
                &["Camera", "Lens", "Tripod", "Camera Bag"],
                (29, 1899),
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
            ),
            (
                "Furniture",
                &["Desk", "Bookshelf", "Armchair", "Side Table"],
                (49, 899),
            ),
            (
                "Lighting",
                &["Desk Lamp", "Floor Lamp", "Pendant Light", "String Lights"],
                (15, 299),
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
            ),
            (
                "Bottoms",
                &["Jeans", "Chinos", "Shorts", "Joggers"],
                (19, 149),
            ),
            (
                "Shoes",
                &["Sneakers", "Running Shoes", "Boots", "Sandals"],
                (29, 229),
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
            ),
            (
                "Fitness",
                &["Yoga Mat", "Kettlebell", "Resistance Band", "Jump Rope"],
                (8, 199),
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
            ),
            (
                "Cooking",
                &["Cookbook", "Baking Guide", "Spice Atlas", "Grill Manual"],
                (14, 59),
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
        for (name, nouns, prices) in subcategories.iter() {
            let leaf = insert_category(&txn, name, Some(root.id), epoch).await?;
            categories += 1;
            leaves.push((leaf.id, *nouns, *prices));
        }
    }

    let mut batch = Vec::with_capacity(500);
    for i in 0..product_count {
        let (category_id, nouns, (low, high)) = leaves[i as usize % leaves.len()];
        let noun = nouns[rng.random_range(0..nouns.len())];
        let name = format!(
            "{} {} {} {}",
            ADJECTIVES[rng.random_range(0..ADJECTIVES.len())],
            COLORS[rng.random_range(0..COLORS.len())],
            MATERIALS[rng.random_range(0..MATERIALS.len())],
            noun
        );
        let slug = Slug::from_name(&name, "product").with_suffix(i + 1);
        let whole = rng.random_range(low..=high);
        let cents = [99, 49, 0, 95][rng.random_range(0..4)];
        let stock = if rng.random_ratio(1, 12) {
            0
        } else {
            rng.random_range(1..=250)
        };
        let created = epoch + Duration::minutes(i64::from(i) * 7);
        batch.push(product::ActiveModel {
            name: Set(name.clone()),
            slug: Set(slug.to_string()),
            description: Set(format!(
                "The {name} is built for daily use: {} construction, a {} finish and a \
                 two-year warranty. Ships in recyclable packaging.",
                MATERIALS[rng.random_range(0..MATERIALS.len())].to_lowercase(),
                COLORS[rng.random_range(0..COLORS.len())].to_lowercase(),
            )),
            sku: Set(Some(format!("DEMO-{:06}", i + 1))),
            price_cents: Set(whole * 100 + cents),
            stock: Set(stock),
            category_id: Set(Some(category_id)),
            image_urls: Set(format!("[\"https://picsum.photos/seed/{slug}/640/480\"]")),
            archived: Set(false),
            created_at: Set(created),
            updated_at: Set(created),
            ..Default::default()
        });
        if batch.len() == 500 {
            product::Entity::insert_many(std::mem::take(&mut batch))
                .exec(&txn)
                .await?;
        }
    }
    if !batch.is_empty() {
        product::Entity::insert_many(batch).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(Seeded::Catalog {
        categories,
        products: product_count,
    })
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
