//! One subscriber's feed of order events: which events it hears, and on whose authority.
//! Rights are checked again for every event delivered, not only when the subscription
//! starts, and the feed ends when the access token it was opened with expires.

use std::time::Duration;

use chrono::Utc;
use entity::order;
use futures_util::Stream;
use sea_orm::{DatabaseConnection, EntityTrait};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::{
    auth::AccessGrant,
    error::{AppError, AppResult},
    service::{
        events::{OrderEvent, OrderEvents},
        orders,
        viewer::{Rights, Viewer, rights_of},
    },
};

/// The order an event is about, as it is now.
async fn load(db: &DatabaseConnection, event: &OrderEvent) -> AppResult<Option<order::Model>> {
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
struct OrderFeed {
    user_id: i32,
    grant: AccessGrant,
    scope: Scope,
}

/// The orders `viewer` may hear of, each as its change commits: all orders for an admin,
/// the viewer's own otherwise, or only order `only` (NOT_FOUND for someone else's, as
/// everywhere else). `grant` is the access token of the connection, by which rights are
/// checked again for every event; the stream ends with an error when they are gone or the
/// token expires (see [`OrderFeed::deliver`]).
pub async fn subscribe(
    db: &DatabaseConnection,
    viewer: &Viewer,
    grant: Option<&AccessGrant>,
    only: Option<i32>,
    events: &OrderEvents,
) -> AppResult<impl Stream<Item = AppResult<order::Model>> + Send + use<>> {
    let feed = open_feed(db, viewer, grant, only).await?;
    Ok(feed.deliver(db.clone(), events.subscribe()))
}

/// Opens `viewer`'s feed: whose events it follows, and the grant it checks them against.
async fn open_feed(
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
            Scope::Own => event.user_id == Some(self.user_id),
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
        let needs_admin = self.scope == Scope::All || event.user_id != Some(self.user_id);
        if needs_admin && rights != Rights::Admin {
            return Err(AppError::Forbidden);
        }
        Ok(())
    }

    /// The orders this feed hears of, as each change commits. It ends with an error, rather
    /// than going quiet, when the subscriber's rights are gone (UNAUTHENTICATED or
    /// FORBIDDEN) and when the access token expires, on a timer even if no event comes:
    /// the client then subscribes again on a connection with a fresh token.
    fn deliver(
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
                        order.status = event.status;
                        yield Ok(order);
                    }
                    Ok(None) => {}
                    Err(err) => tracing::warn!(error = ?err, "cannot load an updated order"),
                }
            }
        }
    }
}
