//! Relay-style keyset pagination. A cursor names a row by its sort key, never an offset,
//! so paging never skips or repeats a row while rows are added or removed.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use crate::{
    domain::Cursor,
    error::{AppError, AppResult},
};

pub const DEFAULT_PAGE_SIZE: i32 = 20;
pub const MAX_PAGE_SIZE: i32 = 100;

/// The four Relay arguments as the client sent them.
#[derive(Clone, Debug, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// Validated arguments: which way to read, how many rows, and between which cursors.
#[derive(Clone, Debug)]
pub struct PageWindow {
    pub limit: u64,
    pub backward: bool,
    pub after: Option<Cursor>,
    pub before: Option<Cursor>,
}

impl PageArgs {
    /// The arguments in the order every connection field declares them.
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        Self {
            first,
            after,
            last,
            before,
        }
    }

    pub fn window(&self) -> AppResult<PageWindow> {
        if self.first.is_some() && self.last.is_some() {
            return Err(AppError::bad_input(
                "last",
                "cannot be combined with first; page forward or backward",
            ));
        }
        let size = |field: &str, n: i32| {
            if (0..=MAX_PAGE_SIZE).contains(&n) {
                Ok(n as u64)
            } else {
                Err(AppError::bad_input(
                    field,
                    format!("must be between 0 and {MAX_PAGE_SIZE}"),
                ))
            }
        };
        let (limit, backward) = match (self.first, self.last) {
            (_, Some(last)) => (size("last", last)?, true),
            (Some(first), None) => (size("first", first)?, false),
            (None, None) => (DEFAULT_PAGE_SIZE as u64, false),
        };
        let cursor = |field: &str, raw: &Option<String>| {
            raw.as_deref()
                .map(|raw| Cursor::decode(raw, field))
                .transpose()
        };
        Ok(PageWindow {
            limit,
            backward,
            after: cursor("after", &self.after)?,
            before: cursor("before", &self.before)?,
        })
    }
}

impl PageWindow {
    /// The page made of `rows`, read in read order with at most one row more than the
    /// limit (that row tells there is more the way the read went). `rows_beyond` says
    /// whether the caller found rows on the other side of the cursor the read started
    /// from: both sides give has-previous or has-next, depending on the direction.
    pub fn page<T>(
        &self,
        mut rows: Vec<(Cursor, T)>,
        rows_beyond: bool,
        total_count: u64,
    ) -> Page<T> {
        let has_more = rows.len() as u64 > self.limit;
        rows.truncate(self.limit as usize);
        if self.backward {
            rows.reverse();
        }
        let (has_previous_page, has_next_page) = if self.backward {
            (has_more, rows_beyond)
        } else {
            (rows_beyond, has_more)
        };
        Page {
            items: rows,
            has_previous_page,
            has_next_page,
            total_count,
        }
    }
}

/// One page of rows, each with its cursor.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<(Cursor, T)>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
    pub total_count: u64,
}

impl<T> Page<T> {
    pub fn empty() -> Self {
        Self {
            items: Vec::new(),
            has_previous_page: false,
            has_next_page: false,
            total_count: 0,
        }
    }

    pub fn map<U>(self, f: impl Fn(T) -> U) -> Page<U> {
        Page {
            items: self
                .items
                .into_iter()
                .map(|(cursor, item)| (cursor, f(item)))
                .collect(),
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            total_count: self.total_count,
        }
    }
}

/// Pages `query` by its integer primary key `id`, in `order` (`Asc` oldest first).
pub async fn page_by_id<E, C>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    id: C,
    order: Order,
    args: &PageArgs,
    id_of: impl Fn(&E::Model) -> i32,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    C: ColumnTrait,
{
    let window = args.window()?;
    let total_count = query.clone().count(db).await?;
    let ascending = matches!(order, Order::Asc);
    // "Comes after cursor c in display order" and its opposite, as SQL conditions.
    let after = |c: &Cursor| if ascending { id.gt(c.id) } else { id.lt(c.id) };
    let not_after = |c: &Cursor| {
        if ascending {
            id.lte(c.id)
        } else {
            id.gte(c.id)
        }
    };
    let before = |c: &Cursor| if ascending { id.lt(c.id) } else { id.gt(c.id) };
    let not_before = |c: &Cursor| {
        if ascending {
            id.gte(c.id)
        } else {
            id.lte(c.id)
        }
    };

    let mut bounded = query.clone();
    if let Some(c) = &window.after {
        bounded = bounded.filter(after(c));
    }
    if let Some(c) = &window.before {
        bounded = bounded.filter(before(c));
    }
    let read_order = match (ascending, window.backward) {
        (true, false) | (false, true) => Order::Asc,
        _ => Order::Desc,
    };
    let rows = bounded
        .order_by(id, read_order)
        .limit(window.limit + 1)
        .all(db)
        .await?
        .into_iter()
        .map(|row| (Cursor::from_id(id_of(&row)), row))
        .collect();

    // Whether any row lies beyond the cursor on the side we did not read.
    let beyond = if window.backward {
        window.before.as_ref().map(not_before)
    } else {
        window.after.as_ref().map(not_after)
    };
    let rows_beyond = match beyond {
        Some(condition) => query.filter(condition).one(db).await?.is_some(),
        None => false,
    };
    Ok(window.page(rows, rows_beyond, total_count))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(limit: u64, backward: bool) -> PageWindow {
        PageWindow {
            limit,
            backward,
            after: None,
            before: None,
        }
    }

    fn rows(ids: &[i32]) -> Vec<(Cursor, i32)> {
        ids.iter().map(|&id| (Cursor::from_id(id), id)).collect()
    }

    fn ids(page: &Page<i32>) -> Vec<i32> {
        page.items.iter().map(|(_, id)| *id).collect()
    }

    #[test]
    fn a_row_past_the_limit_means_more_the_way_the_read_went() {
        let forward = window(2, false).page(rows(&[1, 2, 3]), false, 9);
        assert_eq!(ids(&forward), [1, 2]);
        assert!(forward.has_next_page && !forward.has_previous_page);
        assert_eq!(forward.total_count, 9);

        // Read backward: newest first from the cursor, shown oldest first.
        let backward = window(2, true).page(rows(&[3, 2, 1]), false, 9);
        assert_eq!(ids(&backward), [2, 3]);
        assert!(backward.has_previous_page && !backward.has_next_page);
    }

    #[test]
    fn rows_beyond_the_starting_cursor_are_the_other_side_of_the_page() {
        let forward = window(5, false).page(rows(&[1, 2]), true, 2);
        assert!(forward.has_previous_page && !forward.has_next_page);
        let backward = window(5, true).page(rows(&[2, 1]), true, 2);
        assert!(backward.has_next_page && !backward.has_previous_page);
    }

    #[test]
    fn without_arguments_a_page_holds_the_default_size_read_forward() {
        let window = PageArgs::default().window().expect("valid");
        assert_eq!(window.limit, DEFAULT_PAGE_SIZE as u64);
        assert!(!window.backward);
    }

    #[test]
    fn page_sizes_outside_zero_to_one_hundred_name_their_argument() {
        for (args, field) in [
            (
                PageArgs {
                    first: Some(101),
                    ..Default::default()
                },
                "first",
            ),
            (
                PageArgs {
                    first: Some(-1),
                    ..Default::default()
                },
                "first",
            ),
            (
                PageArgs {
                    last: Some(1000),
                    ..Default::default()
                },
                "last",
            ),
            (
                PageArgs {
                    first: Some(1),
                    last: Some(1),
                    ..Default::default()
                },
                "last",
            ),
            (
                PageArgs {
                    after: Some("!".into()),
                    ..Default::default()
                },
                "after",
            ),
        ] {
            match args.window() {
                Err(AppError::BadUserInput { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{args:?} gave {other:?}"),
            }
        }
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::strategies::any_text;

    proptest! {
        #[test]
        fn a_page_window_takes_0_to_100_rows_one_way_only(
            first in proptest::option::of(any::<i32>()),
            last in proptest::option::of(any::<i32>()),
            after in proptest::option::of(any_text()),
            before in proptest::option::of(any_text()),
        ) {
            let args = PageArgs { first, after, last, before };
            if let Ok(window) = args.window() {
                prop_assert!(first.is_none() || last.is_none());
                prop_assert!(window.limit <= MAX_PAGE_SIZE as u64);
                prop_assert_eq!(window.backward, last.is_some());
                let asked = last.or(first).unwrap_or(DEFAULT_PAGE_SIZE);
                prop_assert_eq!(window.limit, asked as u64);
            }
        }

        #[test]
        fn every_size_from_0_to_100_is_a_page(size in 0..=MAX_PAGE_SIZE, backward in any::<bool>()) {
            let args = if backward {
                PageArgs { last: Some(size), ..PageArgs::default() }
            } else {
                PageArgs { first: Some(size), ..PageArgs::default() }
            };
            let window = args.window().expect("a valid size");
            prop_assert_eq!(window.limit, size as u64);
            prop_assert_eq!(window.backward, backward);
        }
    }
}
