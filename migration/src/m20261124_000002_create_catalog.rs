use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Full-text search over name, description and sku. SQLite: an FTS5 index kept in step
/// by triggers (stock changes at checkout do not touch it). PostgreSQL: a generated
/// tsvector column with a GIN index. Both tokenize without stemming, so a search
/// finds the same products on either database.
const SQLITE_SEARCH: &[&str] = &[
    "CREATE VIRTUAL TABLE product_search USING fts5(
        name, description, sku,
        content='products', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER products_search_insert AFTER INSERT ON products BEGIN
        INSERT INTO product_search(rowid, name, description, sku)
        VALUES (new.id, new.name, new.description, coalesce(new.sku, ''));
    END",
    "CREATE TRIGGER products_search_delete AFTER DELETE ON products BEGIN
        INSERT INTO product_search(product_search, rowid, name, description, sku)
        VALUES ('delete', old.id, old.name, old.description, coalesce(old.sku, ''));
    END",
    "CREATE TRIGGER products_search_update AFTER UPDATE OF name, description, sku ON products BEGIN
        INSERT INTO product_search(product_search, rowid, name, description, sku)
        VALUES ('delete', old.id, old.name, old.description, coalesce(old.sku, ''));
        INSERT INTO product_search(rowid, name, description, sku)
        VALUES (new.id, new.name, new.description, coalesce(new.sku, ''));
    END",
];

const POSTGRES_SEARCH: &[&str] = &[
    "ALTER TABLE products ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', coalesce(name, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(sku, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(description, '')), 'B')) STORED",
    "CREATE INDEX idx_products_search ON products USING GIN (search_vector)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Categories::Table)
                    .col(pk_auto(Categories::Id))
                    .col(string_len(Categories::Name, 100))
                    .col(string_len_uniq(Categories::Slug, 120))
                    .col(text_null(Categories::Description))
                    .col(integer_null(Categories::ParentId))
                    .col(timestamp_with_time_zone(Categories::CreatedAt))
                    .col(timestamp_with_time_zone(Categories::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Categories::Table, Categories::ParentId)
                            .to(Categories::Table, Categories::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_categories_parent")
                    .table(Categories::Table)
                    .col(Categories::ParentId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .col(pk_auto(Products::Id))
                    .col(string_len(Products::Name, 200))
                    .col(string_len_uniq(Products::Slug, 120))
                    .col(text(Products::Description))
                    .col(string_len_null(Products::Sku, 64).unique_key())
                    .col(
                        big_integer(Products::PriceCents)
                            .check(Expr::col(Products::PriceCents).gte(0)),
                    )
                    .col(integer(Products::Stock).check(Expr::col(Products::Stock).gte(0)))
                    .col(integer_null(Products::CategoryId))
                    .col(text(Products::ImageUrls))
                    .col(boolean(Products::Archived).default(false))
                    .col(timestamp_with_time_zone(Products::CreatedAt))
                    .col(timestamp_with_time_zone(Products::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Products::Table, Products::CategoryId)
                            .to(Categories::Table, Categories::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // One index per sort order, each ending in id: the keyset is (sort value, id).
        for (name, column) in [
            ("idx_products_name", Products::Name),
            ("idx_products_price", Products::PriceCents),
            ("idx_products_created", Products::CreatedAt),
            ("idx_products_category", Products::CategoryId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Products::Table)
                        .col(column)
                        .col(Products::Id)
                        .to_owned(),
                )
                .await?;
        }

        let statements = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES_SEARCH,
            _ => SQLITE_SEARCH,
        };
        let db = manager.get_connection();
        for statement in statements {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Sqlite {
            manager
                .get_connection()
                .execute_unprepared("DROP TABLE IF EXISTS product_search")
                .await?;
        }
        for table in [Products::Table.into_iden(), Categories::Table.into_iden()] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Id,
    Name,
    Slug,
    Description,
    ParentId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    Name,
    Slug,
    Description,
    Sku,
    PriceCents,
    Stock,
    CategoryId,
    ImageUrls,
    Archived,
    CreatedAt,
    UpdatedAt,
}
