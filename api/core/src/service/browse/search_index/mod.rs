//! The storefront's search box, served from a search index in this process's memory.
//!
//! A search that thousands of products match cost the databases' own full-text search
//! 6-80 ms at 100,000 products, most of it in counting and ranking every match
//! (bench/README.md, "Search: what an embedded index would give"); a tantivy index does
//! both in well under a millisecond. Each process keeps its own index (several processes
//! share one database, and an index has one writer), so the database stays the one
//! truth:
//!
//! - At start the index is built from the catalog, read in batches.
//! - Every search first asks the trail of changes (`changes`) what changed since the
//!   last look, one indexed statement, and indexes those products again before it
//!   searches. So a search sees every change committed before it began, made through
//!   any process, and `totalCount` is exact, as with SQL. A process also looks every
//!   second on its own (`follow_forever`), so a search seldom has anything to index.
//!
//! What it indexes is what the databases' full-text search indexes: name, SKU and
//! description, split into letters and digits, lower-cased, no stemming, diacritics
//! folded on SQLite only (as its FTS5 table does). Each word of a search matches as a prefix in any of the three fields;
//! every word must match. Relevance is BM25 with shop's weights (name 10, SKU 5,
//! description 1), ties broken by product id.
//!
//! Only a plain search (narrowed by nothing but the archive) in relevance order, the
//! storefront's search box, is served here: pages in another order, or narrowed by
//! category, price or stock, are read by SQL, which filters and sorts by index first.

mod changes;
mod collector;

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use entity::product;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::IntoCondition,
};
use tantivy::{
    Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term, doc,
    indexer::IndexWriterOptions,
    query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery},
    schema::{FAST, Field, INDEXED, IndexRecordOption, Schema, TextFieldIndexing, TextOptions},
    tokenizer::{AsciiFoldingFilter, LowerCaser, SimpleTokenizer, TextAnalyzer},
};

pub use changes::prune;
use collector::PageCollector;
pub(super) use collector::{Found, PageSpec, Place};

use crate::{
    domain::SearchTerms,
    error::{AppError, AppResult},
};

/// The fast field that holds each document's product id.
const ID: &str = "id";
/// The name of the analyzer of the text fields.
const WORDS: &str = "shop_words";
/// Products read (or indexed again) per statement.
const BATCH: u64 = 1_000;

/// One process's search index of the catalog. Cloning shares it.
#[derive(Clone)]
pub struct SearchIndex(Arc<Inner>);

struct Inner {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    follower: tokio::sync::Mutex<Follower>,
}

/// The one writer of the index, and how far it has followed the trail of changes.
struct Follower {
    followed: changes::Followed,
    /// Used on a blocking thread: a commit waits for tantivy's indexing thread.
    writer: Arc<Mutex<IndexWriter>>,
    /// When the last look at the trail began.
    looked_at: Instant,
}

/// A product as the index holds it.
type Row = (i32, String, String, Option<String>, bool);

impl SearchIndex {
    /// An index of the whole catalog of `db`, read in batches.
    pub async fn build(db: &DatabaseConnection) -> AppResult<Self> {
        // Before the catalog: what changes while it is read is told again after.
        let followed = changes::Followed::starting_now(db).await?;
        let (index, fields) = empty_index(db.get_database_backend());
        let writer: IndexWriter = index
            .writer_with_options(IndexWriterOptions::builder().num_merge_threads(1).build())
            .map_err(AppError::internal)?;
        let mut after = 0;
        loop {
            let rows = rows(db, product::Column::Id.gt(after)).await?;
            let Some(last) = rows.last() else { break };
            after = last.0;
            for row in &rows {
                writer
                    .add_document(fields.document(row))
                    .map_err(AppError::internal)?;
            }
        }
        let writer = Arc::new(Mutex::new(writer));
        commit(writer.clone()).await?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(AppError::internal)?;
        Ok(Self(Arc::new(Inner {
            index,
            reader,
            fields,
            follower: tokio::sync::Mutex::new(Follower {
                followed,
                writer,
                looked_at: Instant::now(),
            }),
        })))
    }

    /// Brings the index up to every change committed before this call: one statement
    /// when nothing changed. Searches that arrive together share one look.
    pub async fn catch_up(&self, db: &DatabaseConnection) -> AppResult<()> {
        let arrived = Instant::now();
        let mut follower = self.0.follower.lock().await;
        if follower.looked_at > arrived {
            // That look began after this call did: it saw all this one would.
            return Ok(());
        }
        follower.looked_at = Instant::now();
        let (changed, followed) = follower.followed.changed(db).await?;
        if changed.is_empty() {
            follower.followed = followed;
            return Ok(());
        }
        let mut documents = Vec::with_capacity(changed.len());
        for ids in changed.chunks(BATCH as usize) {
            let rows = rows(db, product::Column::Id.is_in(ids.iter().copied())).await?;
            documents.extend(rows.iter().map(|row| self.0.fields.document(row)));
        }
        let id_field = self.0.fields.id;
        let writer = follower.writer.clone();
        tokio::task::spawn_blocking(move || -> AppResult<()> {
            let writer = writer.lock().map_err(|_| poisoned())?;
            // A deleted product has no row: its old document goes and none comes.
            for id in changed {
                writer.delete_term(Term::from_field_u64(id_field, id_u64(id)));
            }
            for document in documents {
                writer.add_document(document).map_err(AppError::internal)?;
            }
            Ok(())
        })
        .await??;
        commit(follower.writer.clone()).await?;
        self.0.reader.reload().map_err(AppError::internal)?;
        follower.followed = followed;
        Ok(())
    }

    /// The matches of `terms` (archived products only if asked for): how many, and the
    /// page `spec` asks for. Up to date with every change committed before the call.
    pub(super) async fn search(
        &self,
        db: &DatabaseConnection,
        terms: &SearchTerms,
        include_archived: bool,
        spec: PageSpec,
    ) -> AppResult<Found> {
        self.catch_up(db).await?;
        let searcher = self.0.reader.searcher();
        let query = self.query(&searcher, terms, include_archived)?;
        searcher
            .search(&query, &PageCollector(spec))
            .map_err(AppError::internal)
    }

    /// Every word must match, as a prefix, in one of the fields; each field's matches
    /// count with its weight.
    fn query(
        &self,
        searcher: &Searcher,
        terms: &SearchTerms,
        include_archived: bool,
    ) -> AppResult<BooleanQuery> {
        let fields = &self.0.fields;
        let mut analyzer = self
            .0
            .index
            .tokenizers()
            .get(WORDS)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("no {WORDS} analyzer")))?;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for word in terms.words() {
            // As the documents' words were: diacritics folded.
            let mut tokens = analyzer.token_stream(word);
            while let Some(token) = tokens.next() {
                let mut expansions: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for (field, weight) in fields.weighted() {
                    for expansion in expand(searcher, field, &token.text)? {
                        let term = TermQuery::new(
                            Term::from_field_text(field, &expansion),
                            IndexRecordOption::WithFreqs,
                        );
                        let weighted = BoostQuery::new(Box::new(term), weight);
                        expansions.push((Occur::Should, Box::new(weighted)));
                    }
                }
                clauses.push((Occur::Must, Box::new(BooleanQuery::new(expansions))));
            }
        }
        if !include_archived {
            let archived = Term::from_field_bool(fields.archived, true);
            let archived = TermQuery::new(archived, IndexRecordOption::Basic);
            clauses.push((Occur::MustNot, Box::new(archived)));
        }
        Ok(BooleanQuery::new(clauses))
    }

    /// Looks at the trail of changes every `interval`, so that searches seldom find
    /// anything to index, and the trail's pruning never outruns this process.
    pub async fn follow_forever(self, db: DatabaseConnection, interval: Duration) {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(err) = self.catch_up(&db).await {
                tracing::error!(error = ?err, "following the catalog's changes failed");
            }
        }
    }
}

/// The products `condition` picks, at most [`BATCH`], by id.
async fn rows(db: &DatabaseConnection, condition: impl IntoCondition) -> AppResult<Vec<Row>> {
    Ok(product::Entity::find()
        .select_only()
        .columns([
            product::Column::Id,
            product::Column::Name,
            product::Column::Description,
            product::Column::Sku,
            product::Column::Archived,
        ])
        .filter(condition)
        .order_by_asc(product::Column::Id)
        .limit(BATCH)
        .into_tuple::<Row>()
        .all(db)
        .await?)
}

/// Commits what the writer has been given, on a blocking thread.
async fn commit(writer: Arc<Mutex<IndexWriter>>) -> AppResult<()> {
    tokio::task::spawn_blocking(move || {
        let mut writer = writer.lock().map_err(|_| poisoned())?;
        writer.commit().map_err(AppError::internal)?;
        Ok(())
    })
    .await?
}

fn poisoned() -> AppError {
    AppError::internal(anyhow::anyhow!("the search index's writer panicked"))
}

/// A product id as the index stores it. Ids are positive.
fn id_u64(id: i32) -> u64 {
    u64::try_from(id).unwrap_or_default()
}

/// The fields of a document.
struct Fields {
    id: Field,
    name: Field,
    description: Field,
    sku: Field,
    archived: Field,
}

impl Fields {
    fn document(&self, (id, name, description, sku, archived): &Row) -> TantivyDocument {
        doc!(
            self.id => id_u64(*id),
            self.name => name.as_str(),
            self.description => description.as_str(),
            self.sku => sku.as_deref().unwrap_or_default(),
            self.archived => *archived,
        )
    }

    /// The searched fields with their weights, as `full_text::rank` gives them to SQL.
    fn weighted(&self) -> [(Field, f32); 3] {
        [(self.name, 10.0), (self.sku, 5.0), (self.description, 1.0)]
    }
}

/// An empty index in memory, with shop's fields and `backend`'s analyzer.
fn empty_index(backend: DbBackend) -> (Index, Fields) {
    // Words as the databases split them (letters and digits), lower-cased; no stemming.
    // Frequencies for BM25; no positions (no phrase search).
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(WORDS)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let mut schema = Schema::builder();
    let fields = Fields {
        id: schema.add_u64_field(ID, INDEXED | FAST),
        name: schema.add_text_field("name", text.clone()),
        description: schema.add_text_field("description", text.clone()),
        sku: schema.add_text_field("sku", text),
        archived: schema.add_bool_field("archived", INDEXED),
    };
    let index = Index::create_in_ram(schema.build());
    let words = TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser);
    // Diacritics folded where the database's own search folds them (SQLite's FTS5 table;
    // PostgreSQL's 'simple' configuration keeps them), so that a search finds the same
    // products by relevance as in any other order, which SQL serves.
    let words = match backend {
        DbBackend::Postgres => words.build(),
        _ => words.filter(AsciiFoldingFilter).build(),
    };
    index.tokenizers().register(WORDS, words);
    (index, fields)
}

/// The words of `field` that start with `prefix`, in every segment.
fn expand(searcher: &Searcher, field: Field, prefix: &str) -> AppResult<BTreeSet<String>> {
    let mut words = BTreeSet::new();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(field).map_err(AppError::internal)?;
        let mut range = inverted.terms().range().ge(prefix.as_bytes());
        if let Some(end) = prefix_end(prefix.as_bytes()) {
            range = range.lt(end);
        }
        let mut stream = range.into_stream().map_err(AppError::internal)?;
        while stream.advance() {
            words.insert(String::from_utf8_lossy(stream.key()).into_owned());
        }
    }
    Ok(words)
}

/// The first byte string after every string that starts with `prefix`.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_of_a_prefix_comes_after_every_word_that_starts_with_it() {
        assert_eq!(prefix_end(b"lap"), Some(b"laq".to_vec()));
        assert_eq!(prefix_end(&[b'a', u8::MAX]), Some(b"b".to_vec()));
        assert_eq!(prefix_end(&[u8::MAX]), None);
    }
}
