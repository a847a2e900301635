//! Admitted documents by their text, so that a storefront's few documents, sent again and
//! again, are parsed and measured once. Parsing was a tenth of the instructions of a
//! product list page (callgrind); a copy of the parsed document costs a fraction of that.
//!
//! Bounded twice, because clients choose the texts: only short documents are kept (a
//! storefront's are a kilobyte or two; longer ones are parsed every time, as before), and
//! only the most recently used of them. A client sending a stream of distinct documents
//! only pushes others' out, at no more cost to itself or the server than without a cache.

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use async_graphql::{Request, ServerError, parser::types::ExecutableDocument};
use lru::LruCache;

use super::{documents, errors::coded};
use crate::error::ErrorCode;

/// The most documents kept.
const CAPACITY: NonZeroUsize = NonZeroUsize::new(128).expect("not zero");
/// The longest document text kept, in bytes. With [`CAPACITY`], at most half a megabyte of
/// text, and its parsed form a few times that.
const MAX_LEN: usize = 4 * 1024;

/// The process's admitted documents, shared by every request over HTTP and the WebSocket.
pub struct DocumentCache {
    admitted: Mutex<LruCache<String, Arc<ExecutableDocument>>>,
}

impl Default for DocumentCache {
    fn default() -> Self {
        Self {
            admitted: Mutex::new(LruCache::new(CAPACITY)),
        }
    }
}

impl DocumentCache {
    /// The request's document, admitted by [`documents::admit`] now or when a request
    /// with the same text was; a refused document is refused every time, never kept.
    pub fn admit<'r>(
        &self,
        request: &'r mut Request,
    ) -> Result<&'r ExecutableDocument, ServerError> {
        let cacheable = request.query.len() <= MAX_LEN;
        let known = cacheable
            .then(|| self.entries().get(request.query.as_str()).cloned())
            .flatten();
        match known {
            // The copy is made outside the lock: requests wait on each other only for
            // the lookup.
            Some(document) => request.set_parsed_query(ExecutableDocument::clone(&document)),
            None if cacheable => {
                let document = Arc::new(documents::admit(request)?.clone());
                self.entries().put(request.query.clone(), document);
            }
            None => {
                documents::admit(request)?;
            }
        }
        request
            .parsed_query()
            .map_err(|error| coded(error, ErrorCode::GraphqlParseFailed))
    }

    fn entries(&self) -> MutexGuard<'_, LruCache<String, Arc<ExecutableDocument>>> {
        // The cache is only ever left whole: a panic elsewhere cannot have broken it.
        self.admitted.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(cache: &DocumentCache, text: &str) -> Result<String, ServerError> {
        let mut request = Request::new(text);
        cache
            .admit(&mut request)
            .map(|document| format!("{:?}", document.operations))
    }

    fn kept(cache: &DocumentCache) -> usize {
        cache.entries().len()
    }

    #[test]
    fn a_document_sent_again_is_the_same_document_from_the_cache() {
        let cache = DocumentCache::default();
        let text = "query Page($n: Int) { products(first: $n) { nodes { id name } } }";
        let first = admitted(&cache, text).expect("admitted");
        assert_eq!(kept(&cache), 1);
        assert_eq!(admitted(&cache, text).expect("admitted again"), first);
        assert_eq!(kept(&cache), 1);
    }

    #[test]
    fn a_refused_document_is_refused_every_time_and_never_kept() {
        let cache = DocumentCache::default();
        let fields = (0..=documents::MAX_MUTATION_FIELDS)
            .map(|n| format!("a{n}: logout"))
            .collect::<Vec<_>>()
            .join(" ");
        let too_many = format!("mutation {{ {fields} }}");
        for text in [too_many.as_str(), "query { products(first: 1) {"] {
            assert!(admitted(&cache, text).is_err(), "{text}");
            assert!(admitted(&cache, text).is_err(), "{text}, again");
        }
        assert_eq!(kept(&cache), 0);
    }

    #[test]
    fn long_documents_are_admitted_but_not_kept() {
        let cache = DocumentCache::default();
        let long = format!("query {{ __typename }} # {}", "x".repeat(MAX_LEN));
        admitted(&cache, &long).expect("admitted");
        assert_eq!(kept(&cache), 0);
    }

    #[test]
    fn the_cache_keeps_the_most_recently_used_documents_up_to_its_capacity() {
        let cache = DocumentCache::default();
        let text = |n: usize| format!("query Q{n} {{ __typename }}");
        let capacity = CAPACITY.get();
        for n in 0..capacity + 10 {
            admitted(&cache, &text(n)).expect("admitted");
        }
        assert_eq!(kept(&cache), capacity);
        assert!(cache.entries().contains(&text(capacity + 9)));
        assert!(!cache.entries().contains(&text(0)));
    }
}
