//! Per-resource credentials: a token that lets whoever holds it act on one resource only
//! (signal a wait condition handle; later: read its server's metadata). The token is
//! `udr1.<id>.<secret>`; only a SHA-256 of the secret is stored, compared in constant time.
//! Tokens are never logged.

use rand::RngExt;
use sha2::{Digest, Sha256};

use crate::store::{CredentialRow, Store, StoreError};

const PREFIX: &str = "udr1";

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Issues a credential for resource `resource_name` of stack `stack_id` and returns its
/// token (the only time the secret exists outside the caller).
pub async fn issue(
    store: &Store,
    project: &str,
    stack_id: &str,
    resource_name: &str,
) -> Result<String, StoreError> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let secret_bytes: [u8; 32] = rand::rng().random();
    let secret = hex::encode(secret_bytes);
    store
        .insert_credential(&CredentialRow {
            id: id.clone(),
            project: project.to_string(),
            stack_id: stack_id.to_string(),
            resource_name: resource_name.to_string(),
            secret_hash: hash(&secret),
            revoked: false,
            disabled: false,
        })
        .await?;
    Ok(format!("{PREFIX}.{id}.{secret}"))
}

/// Whether `token` looks like a resource credential (so it is checked here, not as the
/// admin token).
pub fn is_resource_token(token: &str) -> bool {
    token.starts_with("udr1.")
}

/// The live credential `token` names, if its secret matches.
pub async fn verify(store: &Store, token: &str) -> Result<Option<CredentialRow>, StoreError> {
    let mut parts = token.splitn(3, '.');
    let (Some(PREFIX), Some(id), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
        return Ok(None);
    };
    let Some(row) = store.credential(id).await? else {
        return Ok(None);
    };
    let ok = super::admin_token::matches(&row.secret_hash, &hash(secret));
    Ok((ok && !row.revoked && !row.disabled).then_some(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tokens_verify_until_revoked_and_only_with_their_secret() {
        let (store, _dir) = crate::store::test_store().await;
        let token = issue(&store, "p", "s", "handle").await.unwrap();
        assert!(is_resource_token(&token));
        let row = verify(&store, &token).await.unwrap().unwrap();
        assert_eq!(
            (row.stack_id.as_str(), row.resource_name.as_str()),
            ("s", "handle")
        );
        let mut forged = token.clone();
        forged.pop();
        forged.push(if token.ends_with('0') { '1' } else { '0' });
        assert!(verify(&store, &forged).await.unwrap().is_none());
        assert!(verify(&store, "udr1.nope.x").await.unwrap().is_none());
        store.set_credentials_disabled("s", true).await.unwrap();
        assert!(verify(&store, &token).await.unwrap().is_none());
        store.set_credentials_disabled("s", false).await.unwrap();
        assert_eq!(store.revoke_credentials("s", "handle").await.unwrap(), 1);
        assert!(verify(&store, &token).await.unwrap().is_none());
    }
}
