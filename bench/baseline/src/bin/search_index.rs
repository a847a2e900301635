//! Issue 17, target 3: what an embedded search index (tantivy) would do for the storefront's
//! search, measured beside what shop does now, before shop takes on the dependency.
//!
//! It reads the catalog of a bench database, builds an index of it in memory, and for each
//! of `bench/run.sh`'s ten searches runs both
//! - shop's own search (`service::browse::list`: the database's full-text search, the page
//!   of 20 by relevance with its exact `totalCount`), and
//! - the same search in the index: each word a prefix, expanded to the words the index
//!   holds and ranked by BM25 with shop's weights (name 10, sku 5, description 1), archived
//!   products left out, the exact count of matches and the best 21 ids (the page and one
//!   more, as shop reads them);
//!
//! then prints the time of each (single stream, and the index's rate on every core), whether
//! the two counts agree, the index's size and build time, and what bringing it up to date
//! costs (a poll that finds 1 or 100 changed products: re-index, commit, reopen).
//!
//!     DATABASE_URL=sqlite://bench.db?mode=ro search-index
//!
//! Built only on request: `cargo build --release -p shop-bench-baseline --features
//! search-index --bin search-index`.

use std::{
    collections::{BTreeSet, HashMap},
    env, fs,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use entity::product;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use shop::{
    domain::{Search, SearchTerms},
    service::{
        Viewer,
        browse::{self, ProductFilter, ProductListing, SortKey},
        pagination::PageArgs,
    },
};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term,
    collector::{Count, TopDocs},
    doc,
    query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery},
    schema::{Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions},
    tokenizer::{AsciiFoldingFilter, LowerCaser, SimpleTokenizer, TextAnalyzer},
};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `bench/run.sh`'s searches.
const TERMS: [&str; 10] = [
    "walnut",
    "laptop",
    "steel lamp",
    "premium",
    "cotton shirt",
    "tent",
    "black oak desk",
    "demo-000777",
    "ceramic",
    "kettle",
];

/// The page a search reads: 20 products and one more, to tell whether there is a next.
const PAGE: usize = 21;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = env::var("DATABASE_URL").context("DATABASE_URL")?;
    let db = shop::db::connect(&url, 4).await?;

    let rss_before = resident_kib();
    let started = Instant::now();
    let catalog = Catalog::build(&db).await?;
    let built = started.elapsed();
    let searcher = catalog.reader.searcher();
    let index_bytes = searcher.space_usage()?.total().get_bytes();
    println!(
        "index: {} products in {:.1} s; {:.1} MiB of index; resident memory {} MiB before, {} MiB after",
        searcher.num_docs(),
        built.as_secs_f64(),
        index_bytes as f64 / 1_048_576.0,
        rss_before / 1024,
        resident_kib() / 1024,
    );

    println!();
    println!(
        "| search | matches (shop / index) | shop's search, ms | index, ms | index's 20 that shop ranks as high as its own 20th |"
    );
    println!("|---|---|---|---|---|");
    for text in TERMS {
        let terms = SearchTerms::parse(text).context("search terms")?;
        let (shop_count, shop_ids, shop_time) = shop_search(&db, &terms).await?;
        let (count, ids, time) = time_index(&catalog, &searcher, &terms)?;
        let shared = as_good(&db, &terms, &shop_ids, &ids[..ids.len().min(20)]).await?;
        println!(
            "| {text} | {shop_count} / {count}{} | {:.2} | {:.3} | {shared} |",
            if shop_count == count as u64 {
                ""
            } else {
                " (differ)"
            },
            millis(shop_time),
            millis(time),
        );
    }

    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let (queries, spent) = index_rate(&catalog, threads, Duration::from_secs(5))?;
    println!();
    println!(
        "index, the ten searches in turn on {threads} threads for {:.0} s: {:.0} searches/s",
        spent.as_secs_f64(),
        queries as f64 / spent.as_secs_f64(),
    );

    let rows = catalog_rows(&db, 0, 1_000).await?;
    let mut writer: IndexWriter = catalog.index.writer_with_num_threads(1, 15_000_000)?;
    for changed in [1, 100] {
        let mut times = Vec::new();
        for round in 0..10 {
            let started = Instant::now();
            for row in rows.iter().skip(round * changed).take(changed) {
                writer.delete_term(Term::from_field_u64(catalog.fields.id, row.0 as u64));
                writer.add_document(catalog.fields.document(row))?;
            }
            writer.commit()?;
            catalog.reader.reload()?;
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "a poll that finds {changed} changed products (re-index, commit, reopen): median {:.1} ms, slowest {:.1} ms",
            millis(times[times.len() / 2]),
            millis(times[times.len() - 1]),
        );
    }
    writer.wait_merging_threads()?;
    println!("resident memory at the end: {} MiB", resident_kib() / 1024);
    Ok(())
}

/// A product as the index needs it: id, name, description, sku, archived.
type Row = (i32, String, String, Option<String>, bool);

/// The products after `after` (by id), at most `limit` of them.
async fn catalog_rows(db: &DatabaseConnection, after: i32, limit: u64) -> anyhow::Result<Vec<Row>> {
    Ok(product::Entity::find()
        .select_only()
        .columns([
            product::Column::Id,
            product::Column::Name,
            product::Column::Description,
            product::Column::Sku,
            product::Column::Archived,
        ])
        .filter(product::Column::Id.gt(after))
        .order_by_asc(product::Column::Id)
        .limit(limit)
        .into_tuple::<Row>()
        .all(db)
        .await?)
}

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
            self.id => *id as u64,
            self.name => name.as_str(),
            self.description => description.as_str(),
            self.sku => sku.as_deref().unwrap_or_default(),
            self.archived => *archived,
        )
    }

    /// The searched fields with shop's weights (as `full_text::rank` gives them to bm25).
    fn weighted(&self) -> [(Field, f32); 3] {
        [(self.name, 10.0), (self.sku, 5.0), (self.description, 1.0)]
    }
}

struct Catalog {
    index: Index,
    reader: IndexReader,
    fields: Fields,
}

impl Catalog {
    async fn build(db: &DatabaseConnection) -> anyhow::Result<Self> {
        // Words as shop's FTS5 table splits them (letters and digits), lower-cased and
        // without diacritics; no stemming, as on both databases.
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("shop")
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let mut schema = Schema::builder();
        let fields = Fields {
            id: schema.add_u64_field("id", INDEXED | STORED | tantivy::schema::FAST),
            name: schema.add_text_field("name", text.clone()),
            description: schema.add_text_field("description", text.clone()),
            sku: schema.add_text_field("sku", text),
            archived: schema.add_bool_field("archived", INDEXED),
        };
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register(
            "shop",
            TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(LowerCaser)
                .filter(AsciiFoldingFilter)
                .build(),
        );
        // One indexing thread with tantivy's smallest budget, as a server would use.
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000)?;
        // In batches, as a server would, so that the catalog is never in memory at once.
        let mut after = 0;
        loop {
            let rows = catalog_rows(db, after, 5_000).await?;
            let Some(last) = rows.last() else { break };
            after = last.0;
            for row in &rows {
                writer.add_document(fields.document(row))?;
            }
        }
        writer.commit()?;
        writer.wait_merging_threads()?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            index,
            reader,
            fields,
        })
    }

    /// Every word must match, as a prefix, in one of the fields; the best first.
    fn query(&self, searcher: &Searcher, terms: &SearchTerms) -> anyhow::Result<BooleanQuery> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for word in terms.words() {
            let mut expansions: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for (field, weight) in self.fields.weighted() {
                for expansion in expand(searcher, field, word)? {
                    let term = TermQuery::new(
                        Term::from_field_text(field, &expansion),
                        IndexRecordOption::WithFreqs,
                    );
                    expansions.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(Box::new(term), weight)),
                    ));
                }
            }
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(expansions))));
        }
        let archived = Term::from_field_bool(self.fields.archived, true);
        clauses.push((
            Occur::MustNot,
            Box::new(TermQuery::new(archived, IndexRecordOption::Basic)),
        ));
        Ok(BooleanQuery::new(clauses))
    }

    /// The count of matches and the ids of the best [`PAGE`].
    fn search(
        &self,
        searcher: &Searcher,
        terms: &SearchTerms,
    ) -> anyhow::Result<(usize, Vec<i32>)> {
        let query = self.query(searcher, terms)?;
        let (count, best) =
            searcher.search(&query, &(Count, TopDocs::with_limit(PAGE).order_by_score()))?;
        let ids = best
            .into_iter()
            .map(|(_, address)| id_of(searcher, address))
            .collect::<anyhow::Result<_>>()?;
        Ok((count, ids))
    }
}

/// The words of `field` that start with `prefix`, in every segment.
fn expand(searcher: &Searcher, field: Field, prefix: &str) -> anyhow::Result<BTreeSet<String>> {
    let mut words = BTreeSet::new();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(field)?;
        let mut range = inverted.terms().range().ge(prefix.as_bytes());
        if let Some(end) = prefix_end(prefix.as_bytes()) {
            range = range.lt(end);
        }
        let mut stream = range.into_stream()?;
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

fn id_of(searcher: &Searcher, address: DocAddress) -> anyhow::Result<i32> {
    let ids = searcher
        .segment_reader(address.segment_ord)
        .fast_fields()
        .u64("id")?;
    let id = ids
        .first(address.doc_id)
        .context("a document without its id")?;
    Ok(i32::try_from(id)?)
}

/// Shop's own search, as the storefront's search box asks for it: its count, the ids of
/// its page, and the mean time of one, over enough runs to last about a second.
async fn shop_search(
    db: &DatabaseConnection,
    terms: &SearchTerms,
) -> anyhow::Result<(u64, Vec<i32>, Duration)> {
    let listing = ProductListing {
        filter: ProductFilter {
            search: Some(Search::Terms(terms.clone())),
            ..ProductFilter::default()
        },
        sort: SortKey::Relevance,
        page: PageArgs {
            first: Some(20),
            ..PageArgs::default()
        },
        with_total: true,
        ..ProductListing::default()
    };
    let once = || browse::list(db, &Viewer::Anonymous, &listing);
    let page = once().await?;
    let ids = page.items.iter().map(|(_, (p, _))| p.card.id).collect();
    let (mut runs, started) = (0u32, Instant::now());
    while runs < 3 || started.elapsed() < Duration::from_secs(1) {
        once().await?;
        runs += 1;
    }
    Ok((page.total_count, ids, started.elapsed() / runs))
}

/// How many of `page` shop's own ranking puts at least as high as the last of its own
/// page, `shop_page`: many products tie on a common word, and the two rank ties (and weigh
/// fields) differently, so the same ids are not expected, only equally good ones.
async fn as_good(
    db: &DatabaseConnection,
    terms: &SearchTerms,
    shop_page: &[i32],
    page: &[i32],
) -> anyhow::Result<usize> {
    let ranks = shop_ranks(db, terms, shop_page.iter().chain(page)).await?;
    let Some(last) = shop_page
        .iter()
        .filter_map(|id| ranks.get(id))
        .copied()
        .reduce(f64::min)
    else {
        return Ok(0);
    };
    Ok(page
        .iter()
        .filter(|id| ranks.get(id).is_some_and(|rank| *rank >= last - 1e-9))
        .count())
}

/// Shop's relevance (`full_text::rank`: higher is better) of each of `ids` for `terms`.
async fn shop_ranks(
    db: &DatabaseConnection,
    terms: &SearchTerms,
    ids: impl Iterator<Item = &i32>,
) -> anyhow::Result<HashMap<i32, f64>> {
    let ids = ids.map(i32::to_string).collect::<Vec<_>>().join(",");
    let backend = db.get_database_backend();
    let (sql, terms) = match backend {
        DbBackend::Postgres => (
            format!(
                "SELECT id, ts_rank(search_vector, to_tsquery('simple', $1))::float8 AS rank
                 FROM products WHERE id IN ({ids})"
            ),
            terms.tsquery(),
        ),
        _ => (
            format!(
                "SELECT rowid AS id, -bm25(product_search, 10.0, 1.0, 5.0) AS rank
                 FROM product_search WHERE product_search MATCH ? AND rowid IN ({ids})"
            ),
            terms.fts5(),
        ),
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, [terms.into()]))
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("", "id")?, row.try_get("", "rank")?)))
        .collect()
}

/// The index's count and best ids for `terms`, and the mean time of one search (words
/// expanded, matches counted and ranked, ids read), over about a second of runs.
fn time_index(
    catalog: &Catalog,
    searcher: &Searcher,
    terms: &SearchTerms,
) -> anyhow::Result<(usize, Vec<i32>, Duration)> {
    let (count, ids) = catalog.search(searcher, terms)?;
    let (mut runs, started) = (0u32, Instant::now());
    while runs < 3 || started.elapsed() < Duration::from_secs(1) {
        catalog.search(searcher, terms)?;
        runs += 1;
    }
    Ok((count, ids, started.elapsed() / runs))
}

/// The ten searches in turn on `threads` threads for `length`: how many ran, and how long.
fn index_rate(
    catalog: &Catalog,
    threads: usize,
    length: Duration,
) -> anyhow::Result<(u64, Duration)> {
    let terms = TERMS
        .iter()
        .map(|text| SearchTerms::parse(text).context("search terms"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let started = Instant::now();
    let counts = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<u64> {
                    let searcher = catalog.reader.searcher();
                    let mut done = 0u64;
                    while started.elapsed() < length {
                        for terms in &terms {
                            catalog.search(&searcher, terms)?;
                            done += 1;
                        }
                    }
                    Ok(done)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a search thread panicked"))
            .collect::<anyhow::Result<Vec<u64>>>()
    })?;
    Ok((counts.into_iter().sum(), started.elapsed()))
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// This process's resident memory in KiB (Linux), 0 where it cannot be read.
fn resident_kib() -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}
