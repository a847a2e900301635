//! Relay connections built from the service layer's keyset pages.

use async_graphql::{
    OutputType, SimpleObject,
    connection::{Connection, Edge},
};

use crate::service::pagination::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page};

/// Fields every connection has besides its edges.
#[derive(SimpleObject)]
pub struct ConnectionTotals {
    /// How many items the whole list holds, over all pages.
    total_count: i32,
}

pub type ConnectionOf<N> = Connection<String, N, ConnectionTotals>;

pub fn connection<T, N: OutputType>(page: Page<T>, to_node: impl Fn(T) -> N) -> ConnectionOf<N> {
    let mut connection = Connection::with_additional_fields(
        page.has_previous_page,
        page.has_next_page,
        ConnectionTotals {
            total_count: i32::try_from(page.total_count).unwrap_or(i32::MAX),
        },
    );
    connection.edges.extend(
        page.items
            .into_iter()
            .map(|(cursor, item)| Edge::new(cursor.encode(), to_node(item))),
    );
    connection
}

/// The page size a connection field will return at most, for its complexity: what the
/// client asked for, bounded as the service bounds it.
pub fn page_cost(first: Option<i32>, last: Option<i32>) -> usize {
    last.or(first)
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE) as usize
}
