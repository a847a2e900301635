//! Live order events for subscriptions, published only after the change committed.
//!
//! Every status change writes an outbox row in its own transaction (see
//! `orders::transition`). On SQLite, whose writers commit one at a time, each process
//! tails those rows by id. On PostgreSQL, commits can land out of id order, so the same
//! transaction also sends `NOTIFY`, which PostgreSQL delivers at commit, to every process
//! listening: a change made through one process reaches subscribers on all of them.

use std::time::Duration;

use chrono::Utc;
use entity::{order, outbox_message};
use futures_util::Stream;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::{
    auth::AccessGrant,
    domain::OrderStatus,
    error::{AppError, AppResult},
    service::{
        orders,
        outbox::Notice,
        viewer::{Rights, Viewer, rights_of},
    },
};

/// The PostgreSQL channel order events travel on.
const CHANNEL: &str = "shop_order_events";

/// An order changed status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderEvent {
    pub order_id: i32,
    pub user_id: i32,
    pub status: OrderStatus,
}

impl OrderEvent {
    fn encode(&self) -> String {
        format!("{}:{}:{}", self.order_id, self.user_id, self.status)
    }

    fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split(':');
        let event = Self {
            order_id: parts.next()?.parse().ok()?,
            user_id: parts.next()?.parse().ok()?,
            status: OrderStatus::parse(parts.next()?)?,
        };
        parts.next().is_none().then_some(event)
    }
}

/// This process's fan-out of order events to its subscribers.
#[derive(Clone)]
pub struct OrderEvents {
    sender: broadcast::Sender<OrderEvent>,
}

impl Default for OrderEvents {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(1024).0,
        }
    }
}

impl OrderEvents {
    pub fn subscribe(&self) -> broadcast::Receiver<OrderEvent> {
        self.sender.subscribe()
    }

    /// How many subscriptions in this process are listening now.
    pub fn subscribers(&self) -> usize {
        self.sender.receiver_count()
    }

    fn publish(&self, event: OrderEvent) {
        // No subscriber is not an error.
        let _ = self.sender.send(event);
    }
}

/// Announces a status change on PostgreSQL, inside the change's transaction, so that it
/// is delivered if and only if the change commits. (SQLite needs nothing: the outbox row
/// is the announcement.)
pub async fn notify(db: &impl ConnectionTrait, event: OrderEvent) -> AppResult<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), event.encode().into()],
        ))
        .await?;
    }
    Ok(())
}

/// Where this process hears of committed changes. It is opened before the server accepts
/// its first connection: opened later, a change committed through this very server in
/// between would never reach the subscribers already waiting for it.
pub enum EventSource {
    /// PostgreSQL: a connection that is already LISTENing on the channel.
    Listen(Box<PgListener>),
    /// SQLite: the outbox, read on from the last row that existed when it was opened.
    Tail { after: i32 },
}

impl EventSource {
    pub async fn open(db: &DatabaseConnection, database_url: &str) -> anyhow::Result<Self> {
        match db.get_database_backend() {
            DbBackend::Postgres => {
                let mut listener = PgListener::connect(database_url).await?;
                listener.listen(CHANNEL).await?;
                Ok(Self::Listen(Box::new(listener)))
            }
            _ => Ok(Self::Tail {
                after: latest_outbox_id(db).await?,
            }),
        }
    }
}

/// Feeds `events` from committed changes for as long as the server runs.
pub async fn pump(db: DatabaseConnection, source: EventSource, events: OrderEvents) {
    let result = match source {
        EventSource::Listen(listener) => listen(*listener, &events).await,
        EventSource::Tail { after } => tail(&db, after, &events).await,
    };
    if let Err(err) = result {
        tracing::error!(error = ?err, "order events stopped");
    }
}

async fn listen(mut listener: PgListener, events: &OrderEvents) -> anyhow::Result<()> {
    loop {
        // recv() reconnects by itself after a lost connection.
        let notification = listener.recv().await?;
        match OrderEvent::decode(notification.payload()) {
            Some(event) => events.publish(event),
            None => tracing::warn!(payload = notification.payload(), "unreadable order event"),
        }
    }
}

async fn latest_outbox_id(db: &DatabaseConnection) -> anyhow::Result<i32> {
    Ok(outbox_message::Entity::find()
        .select_only()
        .column_as(outbox_message::Column::Id.max(), "max")
        .into_tuple::<Option<i32>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0))
}

async fn tail(db: &DatabaseConnection, after: i32, events: &OrderEvents) -> anyhow::Result<()> {
    let latest = |after: i32| {
        outbox_message::Entity::find()
            .filter(outbox_message::Column::Kind.eq("order_status"))
            .filter(outbox_message::Column::Id.gt(after))
            .order_by_asc(outbox_message::Column::Id)
    };
    let mut seen = after;
    let mut ticks = tokio::time::interval(Duration::from_millis(100));
    loop {
        ticks.tick().await;
        let rows = match latest(seen).limit(500).all(db).await {
            Ok(rows) => rows,
            Err(err) => {
                tracing::warn!(error = %err, "cannot read order events; retrying");
                continue;
            }
        };
        for row in rows {
            seen = row.id;
            let (Some(order_id), Ok(Notice::OrderStatus { to, .. })) =
                (row.order_id, Notice::of(&row))
            else {
                continue;
            };
            if let Some(status) = OrderStatus::parse(&to) {
                events.publish(OrderEvent {
                    order_id,
                    user_id: row.user_id,
                    status,
                });
            }
        }
    }
}

/// The order an event is about, as it is now.
pub async fn load(db: &DatabaseConnection, event: &OrderEvent) -> AppResult<Option<order::Model>> {
    Ok(order::Entity::find_by_id(event.order_id).one(db).await?)
}

/// Which orders a subscription follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// The subscriber's own orders.
    Own,
    /// Every user's orders: an admin's subscription.
    All,
    /// One order, the subscriber's own or (for an admin) anyone's.
    One(i32),
}

/// One subscription to order events: whose events it hears and on whose authority. The
/// authority is the access token the connection was opened with, so rights are checked
/// again for every event delivered, not only when the subscription starts.
pub struct OrderFeed {
    user_id: i32,
    grant: AccessGrant,
    scope: Scope,
}

/// Opens `viewer`'s feed of order events: all orders for an admin, the viewer's own
/// otherwise, or only order `only` (NOT_FOUND for someone else's, as everywhere else).
/// `grant` is the access token of the connection, needed to check rights later on.
pub async fn open_feed(
    db: &DatabaseConnection,
    viewer: &Viewer,
    grant: Option<&AccessGrant>,
    only: Option<i32>,
) -> AppResult<OrderFeed> {
    let user_id = viewer.user_id()?;
    let grant = grant
        .filter(|grant| grant.user_id == user_id)
        .cloned()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("a subscriber without its token")))?;
    let rights = rights_of(db, &grant).await?;
    let scope = match only {
        Some(id) => {
            orders::find_visible(db, viewer, id).await?;
            Scope::One(id)
        }
        None if rights == Rights::Admin => Scope::All,
        None => Scope::Own,
    };
    Ok(OrderFeed {
        user_id,
        grant,
        scope,
    })
}

/// What a feed waits for next.
enum Wake {
    Received(Result<OrderEvent, RecvError>),
    TokenExpired,
}

impl OrderFeed {
    /// Whether `event` is one this feed follows (no rights checked yet).
    fn follows(&self, event: &OrderEvent) -> bool {
        match self.scope {
            Scope::Own => event.user_id == self.user_id,
            Scope::All => true,
            Scope::One(id) => event.order_id == id,
        }
    }

    /// Whether the subscriber may still hear `event`: the token's session still stands,
    /// and they are still an admin if the feed is of all orders or the event of someone
    /// else's order. Checked only for an event about to be delivered, so an idle
    /// subscription costs no queries.
    async fn may_hear(&self, db: &DatabaseConnection, event: &OrderEvent) -> AppResult<()> {
        let rights = rights_of(db, &self.grant).await?;
        let needs_admin = self.scope == Scope::All || event.user_id != self.user_id;
        if needs_admin && rights != Rights::Admin {
            return Err(AppError::Forbidden);
        }
        Ok(())
    }

    /// The orders this feed hears of, as each change commits. It ends with an error, rather
    /// than going quiet, when the subscriber's rights are gone (UNAUTHENTICATED or
    /// FORBIDDEN) and when the access token expires, on a timer even if no event comes:
    /// the client then subscribes again on a connection with a fresh token.
    pub fn deliver(
        self,
        db: DatabaseConnection,
        mut events: broadcast::Receiver<OrderEvent>,
    ) -> impl Stream<Item = AppResult<order::Model>> + Send + 'static {
        let time_left = (self.grant.expires_at - Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        async_stream::stream! {
            let expiry = tokio::time::sleep(time_left);
            tokio::pin!(expiry);
            loop {
                let wake = tokio::select! {
                    () = &mut expiry => Wake::TokenExpired,
                    received = events.recv() => Wake::Received(received),
                };
                let event = match wake {
                    Wake::TokenExpired => {
                        yield Err(AppError::Unauthenticated(
                            "the access token has expired; reconnect with a fresh one",
                        ));
                        break;
                    }
                    Wake::Received(Ok(event)) => event,
                    // A slow subscriber misses events rather than holding everyone up.
                    Wake::Received(Err(RecvError::Lagged(_))) => continue,
                    Wake::Received(Err(RecvError::Closed)) => break,
                };
                if !self.follows(&event) {
                    continue;
                }
                if let Err(err) = self.may_hear(&db, &event).await {
                    yield Err(err);
                    break;
                }
                match load(&db, &event).await {
                    // The order as it is now, but with the status this change set: when the
                    // next change commits before this one is read, the subscriber must
                    // still hear every status, not the latest one twice.
                    Ok(Some(mut order)) => {
                        order.status = event.status.as_str().to_owned();
                        yield Ok(order);
                    }
                    Ok(None) => {}
                    Err(err) => tracing::warn!(error = ?err, "cannot load an updated order"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_their_notification_text() {
        let event = OrderEvent {
            order_id: 7,
            user_id: 3,
            status: OrderStatus::Shipped,
        };
        assert_eq!(OrderEvent::decode(&event.encode()), Some(event));
        for bad in ["", "7", "7:3", "7:3:LOST", "7:3:PAID:x", "a:3:PAID"] {
            assert_eq!(OrderEvent::decode(bad), None, "{bad:?}");
        }
    }
}
