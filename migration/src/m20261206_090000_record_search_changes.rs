use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every change to what search finds in a product (its name, description, sku or
/// archiving, and its creation and deletion) leaves a row in `product_search_changes`,
/// written by triggers in the changing transaction itself, so no code path can forget
/// it. Each server process keeps its own search index and follows this table to keep
/// it exact (`service::browse::search_index`).
///
/// How a follower knows it has seen every change:
/// - SQLite has one writer at a time, so change ids commit in order: everything up to
///   the highest id seen has been seen (AUTOINCREMENT: ids are never reused after the
///   sweeper prunes old rows).
/// - PostgreSQL commits transactions in any order, so each row records its
///   transaction's id; a follower asks again for every row of a transaction that was
///   still running at its last poll (`pg_snapshot_xmin`).
///
/// Stock and price changes (every checkout) do not touch the table: the trigger fires
/// only when a searched column really changes.
const SQLITE: &[&str] = &[
    "CREATE TABLE product_search_changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        product_id INTEGER NOT NULL,
        changed_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    "CREATE TRIGGER products_search_change_insert AFTER INSERT ON products BEGIN
        INSERT INTO product_search_changes (product_id) VALUES (new.id);
    END",
    "CREATE TRIGGER products_search_change_delete AFTER DELETE ON products BEGIN
        INSERT INTO product_search_changes (product_id) VALUES (old.id);
    END",
    "CREATE TRIGGER products_search_change_update
        AFTER UPDATE OF name, description, sku, archived ON products
        WHEN old.name IS NOT new.name OR old.description IS NOT new.description
            OR old.sku IS NOT new.sku OR old.archived IS NOT new.archived
     BEGIN
        INSERT INTO product_search_changes (product_id) VALUES (new.id);
     END",
];

const POSTGRES: &[&str] = &[
    "CREATE TABLE product_search_changes (
        id BIGSERIAL PRIMARY KEY,
        product_id INTEGER NOT NULL,
        txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
        changed_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    "CREATE INDEX idx_product_search_changes_txid ON product_search_changes (txid)",
    "CREATE FUNCTION record_product_search_change() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
        INSERT INTO product_search_changes (product_id)
        VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
        RETURN NULL;
     END $$",
    "CREATE TRIGGER products_search_change_insert_delete
        AFTER INSERT OR DELETE ON products
        FOR EACH ROW EXECUTE FUNCTION record_product_search_change()",
    "CREATE TRIGGER products_search_change_update
        AFTER UPDATE OF name, description, sku, archived ON products
        FOR EACH ROW
        WHEN (OLD.name IS DISTINCT FROM NEW.name
            OR OLD.description IS DISTINCT FROM NEW.description
            OR OLD.sku IS DISTINCT FROM NEW.sku
            OR OLD.archived IS DISTINCT FROM NEW.archived)
        EXECUTE FUNCTION record_product_search_change()",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS products_search_change_insert",
    "DROP TRIGGER IF EXISTS products_search_change_delete",
    "DROP TRIGGER IF EXISTS products_search_change_update",
    "DROP TABLE IF EXISTS product_search_changes",
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS products_search_change_insert_delete ON products",
    "DROP TRIGGER IF EXISTS products_search_change_update ON products",
    "DROP FUNCTION IF EXISTS record_product_search_change()",
    "DROP TABLE IF EXISTS product_search_changes",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE, POSTGRES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE_DOWN, POSTGRES_DOWN).await
    }
}

async fn run(manager: &SchemaManager<'_>, sqlite: &[&str], postgres: &[&str]) -> Result<(), DbErr> {
    let statements = match manager.get_database_backend() {
        DbBackend::Postgres => postgres,
        _ => sqlite,
    };
    let db = manager.get_connection();
    for statement in statements {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}
