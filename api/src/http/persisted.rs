//! Apollo's automatic persisted queries (APQ): a client sends only the SHA-256 of its
//! document in `extensions.persistedQuery`; when the server does not know that hash it
//! answers PERSISTED_QUERY_NOT_FOUND, and the client sends the hash and the document once,
//! after which the hash alone is enough. Over GET this keeps URLs short enough for CDNs.
//!
//! The lookup happens here, in the HTTP layer, before anything else reads `query`: the GET
//! route must know whether a hash stands for a mutation before it runs it, and the
//! `DocumentLimits` extension then parses the resolved document like any other.
//! async-graphql's own `ApolloPersistedQueries` extension runs too late for both (inside
//! the schema, after those checks), answers "PersistedQueryNotFound" without an
//! `extensions.code`, and panics on a zero capacity; so the cache is our own.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
};

use sha2::{Digest, Sha256};

/// Bytes of documents the cache holds at most, whatever the number of entries: a client
/// could otherwise fill every entry with a document as large as the body limit.
pub const MAX_CACHED_BYTES: usize = 16 * 1024 * 1024;
/// Documents the cache holds unless SHOP_PERSISTED_QUERIES says otherwise.
pub const DEFAULT_MAX_ENTRIES: u32 = 1_000;

/// Why a request's `extensions.persistedQuery` cannot be used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The hash is unknown (never sent with its document, or evicted since): the client
    /// sends it again with the document. The message is the one Apollo's links look for.
    #[error("PersistedQueryNotFound")]
    NotFound,
    /// The document sent is not the one the hash names; storing it would let anyone make
    /// a well-known hash run a document of their choosing.
    #[error("sha256Hash is not the SHA-256 of the query sent with it")]
    HashMismatch,
    #[error("persistedQuery must be {{\"version\": 1, \"sha256Hash\": \"<64 hex digits>\"}}")]
    Malformed,
}

/// The documents clients sent with their hashes, least recently used evicted first.
#[derive(Clone)]
pub struct PersistedQueries(Arc<Mutex<Lru>>);

#[derive(serde::Deserialize)]
struct PersistedQuery {
    version: i32,
    #[serde(rename = "sha256Hash")]
    sha256_hash: String,
}

impl PersistedQueries {
    /// A cache of at most `max_entries` documents (at least one) and [`MAX_CACHED_BYTES`].
    pub fn new(max_entries: u32) -> Self {
        Self::bounded(
            usize::try_from(max_entries).unwrap_or(usize::MAX),
            MAX_CACHED_BYTES,
        )
    }

    fn bounded(max_entries: usize, max_bytes: usize) -> Self {
        Self(Arc::new(Mutex::new(Lru {
            entries: HashMap::new(),
            by_use: BTreeMap::new(),
            clock: 0,
            bytes: 0,
            max_entries: max_entries.max(1),
            max_bytes,
        })))
    }

    /// Fills in the document of a request that names one by hash, and remembers one sent
    /// with its hash. A request without `extensions.persistedQuery` is left as it is.
    pub fn resolve(&self, request: &mut async_graphql::Request) -> Result<(), Refusal> {
        let Some(value) = request.extensions.remove("persistedQuery") else {
            return Ok(());
        };
        let persisted: PersistedQuery =
            async_graphql::from_value(value).map_err(|_| Refusal::Malformed)?;
        let hash = persisted.sha256_hash.to_ascii_lowercase();
        if persisted.version != 1
            || hash.len() != 64
            || !hash.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(Refusal::Malformed);
        }
        if request.query.is_empty() {
            let query = self.lock().get(&hash).ok_or(Refusal::NotFound)?;
            request.query = query.to_string();
            return Ok(());
        }
        if hex::encode(Sha256::digest(request.query.as_bytes())) != hash {
            return Err(Refusal::HashMismatch);
        }
        self.lock().insert(hash, Arc::from(request.query.as_str()));
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lru> {
        // The cache holds no invariant a panic elsewhere could break halfway: at worst an
        // entry is missing, and the client sends its document again.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A least-recently-used map: `by_use` orders the hashes by their last use, so the
/// oldest is found in O(log n).
struct Lru {
    entries: HashMap<String, Entry>,
    by_use: BTreeMap<u64, String>,
    clock: u64,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
}

struct Entry {
    query: Arc<str>,
    used: u64,
}

impl Lru {
    fn get(&mut self, hash: &str) -> Option<Arc<str>> {
        let now = self.tick();
        let entry = self.entries.get_mut(hash)?;
        self.by_use.remove(&entry.used);
        entry.used = now;
        self.by_use.insert(now, hash.to_owned());
        Some(entry.query.clone())
    }

    fn insert(&mut self, hash: String, query: Arc<str>) {
        if query.len() > self.max_bytes {
            return;
        }
        self.remove(&hash);
        while self.entries.len() >= self.max_entries || self.bytes + query.len() > self.max_bytes {
            let Some((_, oldest)) = self.by_use.pop_first() else {
                break;
            };
            self.remove(&oldest);
        }
        let used = self.tick();
        self.bytes += query.len();
        self.by_use.insert(used, hash.clone());
        self.entries.insert(hash, Entry { query, used });
    }

    fn remove(&mut self, hash: &str) {
        if let Some(entry) = self.entries.remove(hash) {
            self.by_use.remove(&entry.used);
            self.bytes -= entry.query.len();
        }
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha256(query: &str) -> String {
        hex::encode(Sha256::digest(query.as_bytes()))
    }

    /// A request as Apollo's link sends it: the hash, and the document or not.
    fn request(query: &str, hash: &str) -> async_graphql::Request {
        let mut request = async_graphql::Request::new(query);
        request.extensions.insert(
            "persistedQuery".into(),
            async_graphql::Value::from_json(
                serde_json::json!({ "version": 1, "sha256Hash": hash }),
            )
            .expect("a JSON value"),
        );
        request
    }

    fn lookup(cache: &PersistedQueries, query: &str) -> Result<String, Refusal> {
        let mut request = request("", &sha256(query));
        cache.resolve(&mut request).map(|()| request.query)
    }

    fn store(cache: &PersistedQueries, query: &str) {
        cache
            .resolve(&mut request(query, &sha256(query)))
            .expect("the hash matches");
    }

    #[test]
    fn a_hash_is_known_once_its_document_was_sent_with_it() {
        let cache = PersistedQueries::new(10);
        assert_eq!(lookup(&cache, "{ a }"), Err(Refusal::NotFound));
        store(&cache, "{ a }");
        assert_eq!(lookup(&cache, "{ a }"), Ok("{ a }".to_owned()));
    }

    #[test]
    fn a_document_that_is_not_what_its_hash_names_is_refused_and_not_stored() {
        let cache = PersistedQueries::new(10);
        let mut forged = request("{ b }", &sha256("{ a }"));
        assert_eq!(cache.resolve(&mut forged), Err(Refusal::HashMismatch));
        assert_eq!(lookup(&cache, "{ a }"), Err(Refusal::NotFound));
    }

    #[test]
    fn the_least_recently_used_document_is_evicted_at_the_entry_limit() {
        let cache = PersistedQueries::new(2);
        store(&cache, "{ a }");
        store(&cache, "{ b }");
        // Using `a` makes `b` the least recently used one.
        assert!(lookup(&cache, "{ a }").is_ok());
        store(&cache, "{ c }");
        assert_eq!(lookup(&cache, "{ b }"), Err(Refusal::NotFound));
        assert!(lookup(&cache, "{ a }").is_ok());
        assert!(lookup(&cache, "{ c }").is_ok());
    }

    #[test]
    fn documents_are_evicted_to_stay_within_the_byte_limit() {
        let cache = PersistedQueries::bounded(100, 12);
        store(&cache, "{ aaaa }");
        store(&cache, "{ bb }");
        assert_eq!(lookup(&cache, "{ aaaa }"), Err(Refusal::NotFound));
        assert!(lookup(&cache, "{ bb }").is_ok());
        let too_large = "{ cccccccccccc }";
        store(&cache, too_large);
        assert_eq!(lookup(&cache, too_large), Err(Refusal::NotFound));
        assert!(lookup(&cache, "{ bb }").is_ok());
    }

    #[test]
    fn only_version_one_with_a_sha256_in_hex_is_understood() {
        let cache = PersistedQueries::new(10);
        let mut short = request("", "abc");
        assert_eq!(cache.resolve(&mut short), Err(Refusal::Malformed));
        let mut version_two = async_graphql::Request::new("");
        version_two.extensions.insert(
            "persistedQuery".into(),
            async_graphql::Value::from_json(
                serde_json::json!({ "version": 2, "sha256Hash": sha256("{ a }") }),
            )
            .expect("a JSON value"),
        );
        assert_eq!(cache.resolve(&mut version_two), Err(Refusal::Malformed));
    }
}
