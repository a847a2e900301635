//! A listing turned into SQL: which products match, in which order, between which
//! cursors, and whether the search index serves it.

use entity::{product, product_variant};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect, Select,
    sea_query::{Expr, ExprTrait, Query},
};

use super::{
    ProductFilter, ProductListing, full_text,
    sorting::{Keyset, Sorting},
};
use crate::{
    domain::{Search, SearchTerms},
    error::AppResult,
    service::{categories, pagination::PageWindow},
};

/// The statements one page of a listing needs, with its cursors read back into values.
pub(super) struct Plan {
    /// Every product the filter keeps, unordered and unbounded: what the total counts,
    /// and where rows beyond the page are looked for.
    pub matching: Select<product::Entity>,
    pub sorting: Sorting,
    pub window: PageWindow,
    pub after: Option<Keyset>,
    pub before: Option<Keyset>,
    /// The search, when nothing but the archive narrows it (the storefront's search
    /// box): the search index then serves a page by relevance, and SQLite counts the
    /// matches of a page in another order from its FTS5 table alone.
    pub plain_search: Option<SearchTerms>,
    pub include_archived: bool,
    pub with_total: bool,
    pub with_categories: bool,
    pub with_details: bool,
}

impl Plan {
    /// The plan for one page of `listing`, or `None` when its search can match nothing.
    pub async fn new(
        db: &DatabaseConnection,
        listing: &ProductListing,
        window: PageWindow,
    ) -> AppResult<Option<Self>> {
        let filter = &listing.filter;
        let search = match &filter.search {
            Some(Search::Terms(terms)) => Some(terms.clone()),
            Some(Search::Unmatchable) => return Ok(None),
            None => None,
        };
        let backend = db.get_database_backend();
        let matching = matching(db, filter, search.as_ref(), backend).await?;
        let sorting = Sorting::new(listing.sort, listing.reverse, search.as_ref(), backend);
        let keyset = |cursor, field| sorting.keyset(cursor, field);
        let after = window
            .after
            .as_ref()
            .map(|c| keyset(c, "after"))
            .transpose()?;
        let before = window
            .before
            .as_ref()
            .map(|c| keyset(c, "before"))
            .transpose()?;
        let narrowed = filter.category_id.is_some()
            || filter.prices.min.is_some()
            || filter.prices.max.is_some()
            || filter.in_stock.is_some();
        let plain_search = search.filter(|_| !narrowed);
        Ok(Some(Self {
            matching,
            sorting,
            window,
            after,
            before,
            plain_search,
            include_archived: filter.include_archived,
            with_total: listing.with_total,
            with_categories: listing.with_categories,
            with_details: listing.with_details,
        }))
    }

    /// The order rows are read in: the display order, or its reverse when paging
    /// backward (the page flips them back).
    pub fn read_order(&self) -> Order {
        if self.sorting.descending != self.window.backward {
            Order::Desc
        } else {
            Order::Asc
        }
    }

    /// The general query for the page: the matches between the cursors in read order,
    /// one row more than the page to tell whether there is more that way.
    pub fn page_query(&self) -> Select<product::Entity> {
        let mut bounded = self.matching.clone();
        if let Some(after) = &self.after {
            bounded = bounded.filter(self.sorting.after(after.clone()));
        }
        if let Some(before) = &self.before {
            bounded = bounded.filter(self.sorting.before(before.clone()));
        }
        bounded
            .order_by(self.sorting.expr.clone(), self.read_order())
            .order_by(product::Column::Id, self.read_order())
            .limit(self.window.limit + 1)
    }

    /// The query for anything beyond the cursor on the side that was not read (the
    /// cursor's own row included: a page was read up to it); `None` when the read started
    /// at an end of the list.
    pub fn beyond(&self) -> Option<Select<product::Entity>> {
        let condition = if self.window.backward {
            let before = self.before.clone()?;
            self.sorting.before(before).not()
        } else {
            let after = self.after.clone()?;
            self.sorting.after(after).not()
        };
        Some(self.matching.clone().filter(condition))
    }
}

/// Every product `filter` keeps.
async fn matching(
    db: &DatabaseConnection,
    filter: &ProductFilter,
    search: Option<&SearchTerms>,
    backend: DbBackend,
) -> AppResult<Select<product::Entity>> {
    let mut matching = product::Entity::find();
    if !filter.include_archived {
        matching = matching.filter(product::Column::Archived.eq(false));
    }
    if let Some(terms) = search {
        matching = full_text::restrict(matching, terms, backend);
    }
    if let Some(category) = filter.category_id {
        let ids = categories::with_descendants(db, category).await?;
        matching = matching.filter(product::Column::CategoryId.is_in(ids));
    }
    // A product matches when one of its active variants' prices is within the bounds. Its
    // row holds the lowest: enough for an upper bound alone, which the price index serves;
    // a lower bound asks the variants.
    if let Some(max) = filter.prices.max {
        matching = matching.filter(product::Column::PriceCents.lte(max.cents()));
    }
    if let Some(min) = filter.prices.min {
        let mut priced = Query::select()
            .expr(Expr::val(1))
            .from(product_variant::Entity)
            .and_where(
                Expr::col((product_variant::Entity, product_variant::Column::ProductId))
                    .equals((product::Entity, product::Column::Id)),
            )
            .and_where(product_variant::Column::Archived.eq(false))
            .and_where(product_variant::Column::PriceCents.gte(min.cents()))
            .to_owned();
        if let Some(max) = filter.prices.max {
            priced.and_where(product_variant::Column::PriceCents.lte(max.cents()));
        }
        matching = matching.filter(Expr::exists(priced));
    }
    Ok(match filter.in_stock {
        Some(true) => matching.filter(product::Column::Stock.gt(0)),
        Some(false) => matching.filter(product::Column::Stock.eq(0)),
        None => matching,
    })
}
