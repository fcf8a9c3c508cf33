//! Per-resource users for the HEAT transports (POLL_SERVER_HEAT, HEAT_SIGNAL): what Heat
//! makes as stack-domain users in Keystone. A user is a credential row whose id is the
//! user id; its password is derived from the server key, so it is never stored and is the
//! same on every node. `POST /v3/auth/tokens` exchanges it for a token
//! `udk1.<user id>.<expiry>.<signature>`: stateless, valid until it expires and only while
//! its user is neither revoked (resource deleted) nor disabled (stack suspended).
//! Passwords and tokens are never logged.

use std::time::Duration;

use crate::auth::temp_url::TempUrls;
use crate::store::{CredentialRow, Store, StoreError};

const TOKEN_PREFIX: &str = "udk1";
const PASSWORD_PURPOSE: &str = "STACK-USER-PASSWORD";
const TOKEN_PURPOSE: &str = "STACK-USER-TOKEN";

/// The region `/v3`'s catalog names (Keystone's default).
pub const REGION: &str = "RegionOne";

/// How long a token lasts: Keystone's default `[token] expiration`.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// A user and its password, as handed to a server or a deployment.
#[derive(Clone, PartialEq, Eq)]
pub struct StackUser {
    /// The user id (`deploy_user_id`, `[heat] user_id`).
    pub user_id: String,
    /// The password (`deploy_password`, `[heat] password`).
    pub password: String,
}

impl std::fmt::Debug for StackUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the password.
        f.debug_struct("StackUser")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// Creates a user for resource `resource` of stack `stack_id`: it may act on that resource
/// only (read its metadata, signal it).
pub async fn issue(
    store: &Store,
    urls: &TempUrls,
    project: &str,
    stack_id: &str,
    resource: &str,
) -> Result<StackUser, StoreError> {
    let user_id = uuid::Uuid::new_v4().simple().to_string();
    store
        .insert_credential(&CredentialRow {
            id: user_id.clone(),
            project: project.to_string(),
            stack_id: stack_id.to_string(),
            resource_name: resource.to_string(),
            secret_hash: String::new(),
            revoked: false,
            disabled: false,
        })
        .await?;
    Ok(existing(urls, &user_id))
}

/// The user `user_id` with its password (issued earlier; the password is derived again).
pub fn existing(urls: &TempUrls, user_id: &str) -> StackUser {
    StackUser {
        user_id: user_id.to_string(),
        password: urls.derive(PASSWORD_PURPOSE, user_id),
    }
}

/// The live user `user_id` if `password` is its password.
pub async fn authenticate(
    store: &Store,
    urls: &TempUrls,
    user_id: &str,
    password: &str,
) -> Result<Option<CredentialRow>, StoreError> {
    if !urls.verify_derived(PASSWORD_PURPOSE, user_id, password) {
        return Ok(None);
    }
    live(store, user_id).await
}

async fn live(store: &Store, user_id: &str) -> Result<Option<CredentialRow>, StoreError> {
    Ok(store
        .credential(user_id)
        .await?
        .filter(|c| !c.revoked && !c.disabled))
}

/// A token for `user_id` that expires at `expires_at` (Unix seconds).
pub fn issue_token(urls: &TempUrls, user_id: &str, expires_at: i64) -> String {
    let signature = urls.derive(TOKEN_PURPOSE, &format!("{user_id}.{expires_at}"));
    format!("{TOKEN_PREFIX}.{user_id}.{expires_at}.{signature}")
}

/// Whether `token` looks like a stack-user token.
pub fn is_token(token: &str) -> bool {
    token.starts_with("udk1.")
}

/// A verified token: its user and when it expires.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    /// The user's credential row.
    pub user: CredentialRow,
    /// Unix seconds.
    pub expires_at: i64,
}

/// The live user `token` was issued to, if it is genuine and has not expired.
pub async fn verify_token(
    store: &Store,
    urls: &TempUrls,
    token: &str,
) -> Result<Option<VerifiedToken>, StoreError> {
    let mut parts = token.splitn(4, '.');
    let (Some(TOKEN_PREFIX), Some(user_id), Some(expiry), Some(signature)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Ok(None);
    };
    let Ok(expires_at) = expiry.parse::<i64>() else {
        return Ok(None);
    };
    if !urls.verify_derived(TOKEN_PURPOSE, &format!("{user_id}.{expires_at}"), signature) {
        return Ok(None);
    }
    if expires_at <= chrono::Utc::now().timestamp() {
        return Ok(None);
    }
    Ok(live(store, user_id)
        .await?
        .map(|user| VerifiedToken { user, expires_at }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_and_tokens_work_until_the_user_is_revoked() {
        let (store, _dir) = crate::store::test_store().await;
        let urls = TempUrls::new("http://127.0.0.1:9", b"key".to_vec());
        let user = issue(&store, &urls, "p", "sid", "server").await.unwrap();
        assert_eq!(existing(&urls, &user.user_id), user);
        assert!(!format!("{user:?}").contains(&user.password));
        let row = authenticate(&store, &urls, &user.user_id, &user.password)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.resource_name, "server");
        assert!(
            authenticate(&store, &urls, &user.user_id, "wrong")
                .await
                .unwrap()
                .is_none()
        );
        let later = chrono::Utc::now().timestamp() + 60;
        let token = issue_token(&urls, &user.user_id, later);
        assert!(is_token(&token));
        assert!(verify_token(&store, &urls, &token).await.unwrap().is_some());
        // A forged expiry, an expired token: refused.
        let forged = token.replace(&later.to_string(), &(later + 1).to_string());
        assert!(
            verify_token(&store, &urls, &forged)
                .await
                .unwrap()
                .is_none()
        );
        let expired = issue_token(&urls, &user.user_id, later - 120);
        assert!(
            verify_token(&store, &urls, &expired)
                .await
                .unwrap()
                .is_none()
        );
        store.set_credentials_disabled("sid", true).await.unwrap();
        assert!(verify_token(&store, &urls, &token).await.unwrap().is_none());
        store.set_credentials_disabled("sid", false).await.unwrap();
        store.revoke_credentials("sid", "server").await.unwrap();
        assert!(verify_token(&store, &urls, &token).await.unwrap().is_none());
        assert!(
            authenticate(&store, &urls, &user.user_id, &user.password)
                .await
                .unwrap()
                .is_none()
        );
    }
}
