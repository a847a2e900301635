//! Who may call a field, declared where the field is declared.

use async_graphql::{Context, Guard, Result};

use super::context::ContextExt;
use crate::service::{accounts, require_admin};

/// The caller must be logged in (UNAUTHENTICATED otherwise).
pub struct LoggedInGuard;

impl Guard for LoggedInGuard {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        ctx.viewer()?.user_id()?;
        Ok(())
    }
}

/// The caller must be an admin right now, as the database says (FORBIDDEN otherwise).
pub struct AdminGuard;

impl Guard for AdminGuard {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        require_admin(ctx.db()?, ctx.viewer()?).await?;
        Ok(())
    }
}

/// When the caller asks for an admin account (the `bool`), it must be an admin itself:
/// FORBIDDEN otherwise, anonymous callers included. Checked before the input is, as an
/// authorization should be.
pub struct CreateAdminGuard(pub bool);

impl Guard for CreateAdminGuard {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        if self.0 {
            accounts::may_create_admin(ctx.db()?, ctx.viewer()?).await?;
        }
        Ok(())
    }
}
