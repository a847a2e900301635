use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// ASCII punctuation and symbols. A search splits its text into words at these (and at
/// anything else that is not a letter or digit), and so does SQLite's FTS5 tokenizer.
/// PostgreSQL's text-search parser instead reads `LT-4000` as `lt` and the number
/// `-4000`, and `shop.example.com/cases` as a host and a path, so the words `4000` and
/// `example` found nothing there. Turning these characters into spaces before parsing
/// leaves the parser only plain words and numbers, as SQLite sees them. Non-ASCII text
/// is left to the parser, which classifies it by the database's locale as before.
const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// `column` with punctuation turned into spaces, for `to_tsvector`.
fn words_of(column: &str) -> String {
    format!(
        "translate(coalesce({column}, ''), '{}', '{}')",
        PUNCTUATION.replace('\'', "''"),
        " ".repeat(PUNCTUATION.len())
    )
}

fn search_vector(words: impl Fn(&str) -> String) -> String {
    format!(
        "ALTER TABLE products ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('simple', {}), 'A') ||
            setweight(to_tsvector('simple', {}), 'A') ||
            setweight(to_tsvector('simple', {}), 'B')) STORED",
        words("name"),
        words("sku"),
        words("description"),
    )
}

/// Replaces the generated column (dropping it drops its index) and indexes it again.
async fn rebuild(manager: &SchemaManager<'_>, column: String) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let db = manager.get_connection();
    db.execute_unprepared("ALTER TABLE products DROP COLUMN search_vector")
        .await?;
    db.execute_unprepared(&column).await?;
    db.execute_unprepared("CREATE INDEX idx_products_search ON products USING GIN (search_vector)")
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild(manager, search_vector(words_of)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild(
            manager,
            search_vector(|column| format!("coalesce({column}, '')")),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_punctuation_character_becomes_one_space() {
        let sql = words_of("sku");
        assert_eq!(PUNCTUATION.chars().count(), 32);
        assert!(PUNCTUATION.chars().all(|c| c.is_ascii_punctuation()));
        assert!(sql.contains(&format!("'{}'", " ".repeat(32))), "{sql}");
        assert!(
            sql.contains("'!\"#$%&''()*+,-./:;<=>?@[\\]^_`{|}~'"),
            "{sql}"
        );
    }
}
