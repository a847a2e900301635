//! A tantivy collector for one page of a search in relevance order: every match counted,
//! the page's matches kept by `(score, product id)`, so that a cursor (a score and an
//! id) marks one place in the order whichever segment a product's document is in.

use std::{cmp::Ordering, collections::BinaryHeap};

use tantivy::{
    DocId, Score, SegmentOrdinal, SegmentReader,
    collector::{Collector, SegmentCollector},
    columnar::Column,
};

use super::ID;

/// A product's place in relevance order: its score, then its id (the tie-break).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Place {
    pub score: f64,
    pub id: i32,
}

impl Place {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(self.id.cmp(&other.id))
    }
}

/// What a page asks of the matches. The order is best first (highest place) when
/// `descending`, worst first otherwise.
#[derive(Clone, Debug)]
pub struct PageSpec {
    /// How many places to keep, in the order they are read.
    pub limit: usize,
    /// Whether they are read from the highest place down.
    pub descending: bool,
    /// Only places strictly past this one in the order read...
    pub from: Option<Place>,
    /// ...and strictly before this one.
    pub until: Option<Place>,
}

impl PageSpec {
    /// Whether `place` comes strictly before `other` in the order read.
    fn precedes(&self, place: &Place, other: &Place) -> bool {
        let order = place.cmp(other);
        if self.descending {
            order == Ordering::Greater
        } else {
            order == Ordering::Less
        }
    }

    fn wants(&self, place: &Place) -> bool {
        self.from.is_none_or(|from| self.precedes(&from, place))
            && self.until.is_none_or(|until| self.precedes(place, &until))
    }
}

/// What the collector found: the number of every match, the page's places in the order
/// read, and whether some match lies at or before `from` (the way not read).
#[derive(Debug, Default)]
pub struct Found {
    pub total: u64,
    pub page: Vec<Place>,
    pub before_from: bool,
}

pub struct PageCollector(pub PageSpec);

/// A place ordered so that the heap's top is the kept place read last: the one to drop
/// when a place read earlier comes.
struct Kept {
    place: Place,
    descending: bool,
}

impl PartialEq for Kept {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Kept {}
impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Kept {
    fn cmp(&self, other: &Self) -> Ordering {
        let order = self.place.cmp(&other.place);
        if self.descending {
            order.reverse()
        } else {
            order
        }
    }
}

pub struct SegmentPage {
    spec: PageSpec,
    ids: Column<u64>,
    found: u64,
    before_from: bool,
    kept: BinaryHeap<Kept>,
}

impl SegmentCollector for SegmentPage {
    type Fruit = (u64, bool, Vec<Place>);

    fn collect(&mut self, doc: DocId, score: Score) {
        self.found += 1;
        // Every document has its product's id (see `Fields::document`).
        let Some(id) = self.ids.first(doc).and_then(|id| i32::try_from(id).ok()) else {
            return;
        };
        let place = Place {
            score: f64::from(score),
            id,
        };
        if let Some(from) = &self.spec.from
            && !self.spec.precedes(from, &place)
        {
            self.before_from = true;
            return;
        }
        if !self.spec.wants(&place) {
            return;
        }
        self.kept.push(Kept {
            place,
            descending: self.spec.descending,
        });
        if self.kept.len() > self.spec.limit {
            self.kept.pop();
        }
    }

    fn harvest(self) -> Self::Fruit {
        let places = self.kept.into_iter().map(|kept| kept.place).collect();
        (self.found, self.before_from, places)
    }
}

impl Collector for PageCollector {
    type Fruit = Found;
    type Child = SegmentPage;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentPage> {
        Ok(SegmentPage {
            spec: self.0.clone(),
            ids: reader.fast_fields().u64(ID)?,
            found: 0,
            before_from: false,
            kept: BinaryHeap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, segments: Vec<(u64, bool, Vec<Place>)>) -> tantivy::Result<Found> {
        let mut found = Found::default();
        for (total, before_from, places) in segments {
            found.total += total;
            found.before_from |= before_from;
            found.page.extend(places);
        }
        let spec = &self.0;
        found.page.sort_by(|a, b| {
            if spec.precedes(a, b) {
                Ordering::Less
            } else if spec.precedes(b, a) {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        });
        found.page.truncate(spec.limit);
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(score: f64, id: i32) -> Place {
        Place { score, id }
    }

    #[test]
    fn best_first_reads_higher_scores_then_higher_ids_first() {
        let spec = PageSpec {
            limit: 10,
            descending: true,
            from: Some(place(2.0, 5)),
            until: None,
        };
        assert!(
            spec.wants(&place(2.0, 4)),
            "a tie with a lower id comes after"
        );
        assert!(spec.wants(&place(1.0, 9)));
        assert!(
            !spec.wants(&place(2.0, 5)),
            "the cursor's own place is not past it"
        );
        assert!(!spec.wants(&place(2.0, 6)));
        assert!(!spec.wants(&place(3.0, 1)));
    }

    #[test]
    fn worst_first_reads_the_other_way_and_stops_before_until() {
        let spec = PageSpec {
            limit: 10,
            descending: false,
            from: None,
            until: Some(place(2.0, 5)),
        };
        assert!(spec.wants(&place(1.0, 9)));
        assert!(spec.wants(&place(2.0, 4)));
        assert!(!spec.wants(&place(2.0, 5)));
        assert!(!spec.wants(&place(3.0, 1)));
    }
}
