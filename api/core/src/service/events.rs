//! Live order events for subscriptions, published only after the change committed.
//!
//! Every status change writes an outbox row in its own transaction (see
//! `orders::transition`). On SQLite, whose writers commit one at a time, each process
//! tails those rows by id. On PostgreSQL, commits can land out of id order, so the same
//! transaction also sends `NOTIFY`, which PostgreSQL delivers at commit, to every process
//! listening: a change made through one process reaches subscribers on all of them.

use std::time::Duration;

use entity::outbox_message::{self, MessageKind};
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use tokio::sync::broadcast;

use crate::{domain::OrderStatus, error::AppResult, service::outbox::Notice};

/// The PostgreSQL channel order events travel on.
const CHANNEL: &str = "shop_order_events";

/// An order changed status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderEvent {
    pub order_id: i32,
    /// The order's user; `None` for a guest's order.
    pub user_id: Option<i32>,
    pub status: OrderStatus,
}

impl OrderEvent {
    fn encode(&self) -> String {
        let user = self.user_id.map(|id| id.to_string()).unwrap_or_default();
        format!("{}:{user}:{}", self.order_id, self.status)
    }

    fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split(':');
        let event = Self {
            order_id: parts.next()?.parse().ok()?,
            user_id: match parts.next()? {
                "" => None,
                user => Some(user.parse().ok()?),
            },
            status: parts.next()?.parse().ok()?,
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
            .filter(outbox_message::Column::Kind.eq(MessageKind::OrderStatus))
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
            events.publish(OrderEvent {
                order_id,
                user_id: row.user_id,
                status: to,
            });
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
            user_id: Some(3),
            status: OrderStatus::Shipped,
        };
        let guests = OrderEvent {
            user_id: None,
            ..event
        };
        assert_eq!(OrderEvent::decode(&event.encode()), Some(event));
        assert_eq!(OrderEvent::decode(&guests.encode()), Some(guests));
        for bad in ["", "7", "7:3", "7:3:LOST", "7:3:PAID:x", "a:3:PAID"] {
            assert_eq!(OrderEvent::decode(bad), None, "{bad:?}");
        }
    }
}
