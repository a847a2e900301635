//! The transactional outbox. A change that must be announced writes its message row with
//! the same connection (transaction) as the change, so the message exists exactly when
//! the change committed. Delivery happens later, by the worker in `mail`.

use chrono::{DateTime, Duration, Utc};
use entity::{
    order,
    outbox_message::{self, DeliveryState, MessageKind},
    user,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType},
};
use serde::{Deserialize, Serialize};

use crate::{
    db,
    domain::OrderStatus,
    error::{AppError, AppResult},
};

/// What a message announces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// A new account, with the link that verifies its address. Messages written before
    /// email verification existed have none.
    Welcome {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        verification: Option<VerificationLink>,
    },
    /// An order changed status (PAID is the order confirmation).
    OrderStatus { from: OrderStatus, to: OrderStatus },
    /// An admin's refund of (part of) an order went through: how much, and why.
    OrderRefund {
        amount_cents: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A password-reset link; the plain token lives here only until the message is sent.
    PasswordReset { token: String },
    /// A fresh email-verification link, asked for by the account.
    EmailVerification(VerificationLink),
}

/// An email-verification token, in the clear only until its message is sent, and the
/// address (lower-cased) it verifies: a message whose account has moved to another
/// address since carries no link, as the token could not verify the new one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationLink {
    pub token: String,
    pub email_key: String,
}

impl VerificationLink {
    /// Whether the link still applies to the account, whose address is `email` now.
    pub fn verifies(&self, email: &str) -> bool {
        self.email_key == email.to_ascii_lowercase()
    }
}

impl Notice {
    /// The kinds whose payloads hold a secret (a reset or verification token).
    const SECRET_KINDS: [MessageKind; 3] = [
        MessageKind::Welcome,
        MessageKind::PasswordReset,
        MessageKind::EmailVerification,
    ];

    fn kind(&self) -> MessageKind {
        match self {
            Self::Welcome { .. } => MessageKind::Welcome,
            Self::OrderStatus { .. } => MessageKind::OrderStatus,
            Self::OrderRefund { .. } => MessageKind::OrderRefund,
            Self::PasswordReset { .. } => MessageKind::PasswordReset,
            Self::EmailVerification(_) => MessageKind::EmailVerification,
        }
    }

    /// The notice a stored row holds.
    pub fn of(row: &outbox_message::Model) -> AppResult<Self> {
        serde_json::from_str(&row.payload).map_err(AppError::internal)
    }
}

/// Who a message goes to, as it is when the message is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    /// The account's username; `None` for a guest.
    pub username: Option<String>,
    pub email: String,
}

/// The recipient of a message, and the order it is about if it is about one (read once,
/// for its content too): a mail about an order goes to the address the order was placed
/// with (its user's then, or its guest's), any other to its user.
pub async fn recipient(
    db: &DatabaseConnection,
    message: &outbox_message::Model,
) -> AppResult<(Recipient, Option<order::Model>)> {
    let user = match message.user_id {
        Some(id) => Some(
            user::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("user {id} is gone")))?,
        ),
        None => None,
    };
    if let Some(order_id) = message.order_id {
        let order = order::Entity::find_by_id(order_id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("order {order_id} is gone")))?;
        let recipient = Recipient {
            username: user.map(|user| user.username),
            email: order.email.clone(),
        };
        return Ok((recipient, Some(order)));
    }
    let user = user.ok_or_else(|| {
        AppError::internal(anyhow::anyhow!("message {} has no recipient", message.id))
    })?;
    let recipient = Recipient {
        username: Some(user.username),
        email: user.email,
    };
    Ok((recipient, None))
}

/// Writes a message row on `db`, which should be the transaction of the change.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    user_id: Option<i32>,
    order_id: Option<i32>,
    notice: Notice,
) -> AppResult<()> {
    let now = Utc::now();
    outbox_message::ActiveModel {
        kind: Set(notice.kind()),
        user_id: Set(user_id),
        order_id: Set(order_id),
        payload: Set(serde_json::to_string(&notice).map_err(AppError::internal)?),
        message_id: Set(format!("<{:032x}@shop.mail>", rand::random::<u128>())),
        status: Set(DeliveryState::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Claims up to `batch` due messages, oldest first, for this worker until `now + lease`,
/// counting an attempt on each. On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets several
/// processes claim side by side without ever taking the same row; on SQLite the write
/// transaction does.
pub async fn claim(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    lease: Duration,
    batch: u64,
) -> AppResult<Vec<outbox_message::Model>> {
    let mut due = outbox_message::Entity::find()
        .select_only()
        .column(outbox_message::Column::Id)
        .filter(outbox_message::Column::Status.eq(DeliveryState::Pending))
        .filter(outbox_message::Column::NextAttemptAt.lte(now))
        .filter(
            outbox_message::Column::LockedUntil
                .is_null()
                .or(outbox_message::Column::LockedUntil.lt(now)),
        )
        .order_by_asc(outbox_message::Column::Id)
        .limit(batch);
    if db.get_database_backend() == DbBackend::Postgres {
        QueryTrait::query(&mut due).lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let txn = db::begin_write(db).await?;
    let mut claimed = outbox_message::Entity::update_many()
        .col_expr(
            outbox_message::Column::LockedUntil,
            Expr::value(now + lease),
        )
        .col_expr(
            outbox_message::Column::Attempts,
            Expr::col(outbox_message::Column::Attempts).add(1),
        )
        .filter(outbox_message::Column::Id.in_subquery(due.into_query()))
        .exec_with_returning(&txn)
        .await?;
    txn.commit().await?;
    // RETURNING follows the update's scan, not the subquery's ORDER BY (on PostgreSQL it
    // comes back shuffled): without this, "delivered" could go out before "shipped".
    claimed.sort_by_key(|message| message.id);
    Ok(claimed)
}

/// The message went out: keep the record, and drop a reset or verification token, which
/// must not outlive its message. Other payloads stay: on SQLite, subscriptions read the
/// status an order changed to from its row, perhaps only after the message went out.
pub async fn delivered(db: &DatabaseConnection, id: i32) -> AppResult<()> {
    let secret = outbox_message::Column::Kind.is_in(Notice::SECRET_KINDS);
    outbox_message::Entity::update_many()
        .col_expr(
            outbox_message::Column::Status,
            Expr::value(DeliveryState::Sent),
        )
        .col_expr(
            outbox_message::Column::Payload,
            Expr::case(secret, "{}")
                .finally(Expr::col(outbox_message::Column::Payload))
                .into(),
        )
        .col_expr(outbox_message::Column::SentAt, Expr::value(Utc::now()))
        .col_expr(
            outbox_message::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            outbox_message::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .filter(outbox_message::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A message that needs no delivery after all (e.g. a cancellation of an order the buyer
/// never saw confirmed): done, without sending.
pub async fn skipped(db: &DatabaseConnection, id: i32) -> AppResult<()> {
    delivered(db, id).await
}

/// The attempt failed: retry after an exponential backoff, or give up for good after
/// `max_attempts` (the row is marked dead, and counted).
pub async fn failed(
    db: &DatabaseConnection,
    row: &outbox_message::Model,
    error: &str,
    max_attempts: i32,
    retry_base: Duration,
) -> AppResult<bool> {
    let dead = row.attempts >= max_attempts;
    let exponent = u32::try_from(row.attempts.clamp(1, 20) - 1).unwrap_or(0);
    let backoff = (retry_base * 2_i32.pow(exponent)).min(Duration::hours(1));
    let mut update = outbox_message::Entity::update_many()
        .col_expr(
            outbox_message::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            outbox_message::Column::LastError,
            Expr::value(error.chars().take(1_000).collect::<String>()),
        )
        .filter(outbox_message::Column::Id.eq(row.id));
    update = if dead {
        update.col_expr(
            outbox_message::Column::Status,
            Expr::value(DeliveryState::Dead),
        )
    } else {
        update.col_expr(
            outbox_message::Column::NextAttemptAt,
            Expr::value(Utc::now() + backoff),
        )
    };
    update.exec(db).await?;
    Ok(dead)
}

/// How many messages wait for delivery, and how many were given up on. One statement, on
/// the status index: sent messages, however many, are never read.
pub async fn counts(db: &DatabaseConnection) -> AppResult<(u64, u64)> {
    let rows: Vec<(DeliveryState, i64)> = outbox_message::Entity::find()
        .select_only()
        .column(outbox_message::Column::Status)
        .column_as(outbox_message::Column::Id.count(), "count")
        .filter(outbox_message::Column::Status.is_in([DeliveryState::Pending, DeliveryState::Dead]))
        .group_by(outbox_message::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let count = |state: DeliveryState| {
        rows.iter()
            .find(|(s, _)| *s == state)
            .map_or(0, |(_, n)| u64::try_from(*n).unwrap_or(0))
    };
    Ok((count(DeliveryState::Pending), count(DeliveryState::Dead)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_welcome_written_before_email_verification_existed_still_reads() {
        let row = outbox_message::Model {
            id: 1,
            kind: MessageKind::Welcome,
            user_id: Some(1),
            order_id: None,
            payload: r#"{"kind":"welcome"}"#.into(),
            message_id: "<1@shop.mail>".into(),
            status: DeliveryState::Pending,
            attempts: 0,
            next_attempt_at: Utc::now(),
            locked_until: None,
            last_error: None,
            created_at: Utc::now(),
            sent_at: None,
        };

        assert_eq!(
            Notice::of(&row).ok(),
            Some(Notice::Welcome { verification: None })
        );
    }

    #[test]
    fn a_refund_notice_keeps_its_amount_and_reason_and_reads_without_a_reason() {
        let notice = Notice::OrderRefund {
            amount_cents: 450,
            reason: Some("Chipped".into()),
        };
        let payload = serde_json::to_string(&notice).expect("serialises");
        assert_eq!(
            payload,
            r#"{"kind":"order_refund","amount_cents":450,"reason":"Chipped"}"#
        );
        assert_eq!(notice.kind(), MessageKind::OrderRefund);
        let without: Notice =
            serde_json::from_str(r#"{"kind":"order_refund","amount_cents":1}"#).expect("reads");
        assert_eq!(
            without,
            Notice::OrderRefund {
                amount_cents: 1,
                reason: None
            }
        );
    }

    #[test]
    fn a_verification_link_applies_to_its_address_in_any_case_and_to_no_other() {
        let link = VerificationLink {
            token: "t".into(),
            email_key: "ada@example.com".into(),
        };

        assert!(link.verifies("Ada@Example.com"));
        assert!(!link.verifies("ada@lovelace.example"));
    }
}
