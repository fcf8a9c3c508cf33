//! Users of projects (`updraft admin user create`): password authentication by name or id,
//! user tokens (`udu1.<random>`, only their sha256 is stored, revocable, expiring), roles,
//! and the `Caller` every authenticated `/v1` request carries to its handler.
//! Passwords and tokens are never logged.

use std::time::Duration;

use rand::RngExt;
use sha2::Digest;

use super::passwords;
use super::throttle::Throttle;
use crate::store::{ProjectRow, Store, StoreError, TokenRow, UserRow};

const TOKEN_PREFIX: &str = "udu1.";

/// A user's role within its project; each implies the ones below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// May only read (GET/HEAD).
    Reader,
    /// May change its project's stacks and configs.
    Member,
    /// May also act on any project and call admin-only endpoints.
    Admin,
}

impl Role {
    /// The role named `name` (`admin`, `member`, `reader`).
    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            "reader" => Some(Role::Reader),
            _ => None,
        }
    }

    /// Its name as stored.
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Reader => "reader",
        }
    }

    /// The role names a token carries: the role and all it implies.
    pub fn effective_names(self) -> Vec<&'static str> {
        [Role::Admin, Role::Member, Role::Reader]
            .into_iter()
            .filter(|r| *r <= self)
            .map(Role::name)
            .collect()
    }
}

/// Who made a `/v1` request, as handlers see it (in the request's extensions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The project the caller acts for (the token's; the path's for the admin token).
    pub project: String,
    /// The user id (`admin` for the admin token, the credential id for resource credentials).
    pub user: String,
    /// Role names.
    pub roles: Vec<String>,
    /// The admin token or a user with the admin role: any project, admin-only endpoints.
    pub is_admin: bool,
}

/// Identity settings of a server (`--token-lifetime`, `--lockout-failures`, `--lockout-seconds`).
#[derive(Debug, Clone, Copy)]
pub struct IdentitySettings {
    /// How long a user token lasts.
    pub token_lifetime: Duration,
    /// Failed password attempts allowed per user name within `lockout_window`.
    pub lockout_failures: usize,
    /// The window of the brute-force limit.
    pub lockout_window: Duration,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        IdentitySettings {
            token_lifetime: Duration::from_secs(3600),
            lockout_failures: 10,
            lockout_window: Duration::from_secs(300),
        }
    }
}

/// A server's identity state: its settings and the brute-force throttle.
#[derive(Debug)]
pub struct Identity {
    /// The settings.
    pub settings: IdentitySettings,
    /// Failed password attempts.
    pub throttle: Throttle,
}

impl Identity {
    /// The identity state for `settings`.
    pub fn new(settings: IdentitySettings) -> Self {
        Identity {
            settings,
            throttle: Throttle::new(settings.lockout_failures, settings.lockout_window),
        }
    }
}

impl Default for Identity {
    fn default() -> Self {
        Identity::new(IdentitySettings::default())
    }
}

/// A user with its project, as authenticated.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user.
    pub user: UserRow,
    /// Its project.
    pub project: ProjectRow,
    /// Its role (an unknown stored role reads as `reader`, the least).
    pub role: Role,
}

impl Principal {
    /// The `Caller` of a request this principal makes.
    pub fn caller(&self) -> Caller {
        Caller {
            project: self.project.id.clone(),
            user: self.user.id.clone(),
            roles: self
                .role
                .effective_names()
                .into_iter()
                .map(String::from)
                .collect(),
            is_admin: self.role == Role::Admin,
        }
    }
}

/// What a password attempt came to.
#[derive(Debug)]
pub enum Attempt {
    /// The password is right.
    Authenticated(Box<Principal>),
    /// Unknown user or wrong password.
    Failed,
    /// Too many failures lately; not even checked.
    LockedOut,
}

/// An identity failure.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Password hashing failed.
    #[error(transparent)]
    Hash(#[from] passwords::HashError),
}

async fn principal(store: &Store, user: UserRow) -> Result<Option<Principal>, StoreError> {
    let Some(project) = store.project_by_id(&user.project_id).await? else {
        return Ok(None);
    };
    let role = Role::parse(&user.role).unwrap_or(Role::Reader);
    Ok(Some(Principal {
        user,
        project,
        role,
    }))
}

/// Which user a password attempt names.
#[derive(Debug, Clone, Copy)]
pub enum UserRef<'a> {
    /// By id.
    Id(&'a str),
    /// By name, optionally within a project (id).
    Name(&'a str, Option<&'a str>),
}

/// Checks `password` for the user `who`, under the brute-force limit (keyed by user name,
/// or id when given by id). Hashing runs off the async runtime.
pub async fn authenticate(
    store: &Store,
    identity: &Identity,
    who: UserRef<'_>,
    password: &str,
) -> Result<Attempt, IdentityError> {
    let key = match who {
        UserRef::Id(id) => format!("id:{id}"),
        UserRef::Name(name, _) => format!("name:{name}"),
    };
    if identity.throttle.is_locked(store, &key).await? {
        return Ok(Attempt::LockedOut);
    }
    let candidates = match who {
        UserRef::Id(id) => store.user_by_id(id).await?.into_iter().collect(),
        UserRef::Name(name, Some(project)) => store
            .user_by_name(project, name)
            .await?
            .into_iter()
            .collect(),
        UserRef::Name(name, None) => store.users_named(name).await?,
    };
    let password = password.to_string();
    let matched = tokio::task::spawn_blocking(move || {
        candidates
            .into_iter()
            .find(|u| passwords::verify(&password, &u.password_hash))
    })
    .await
    .ok()
    .flatten();
    match matched {
        Some(user) => match principal(store, user).await? {
            Some(p) => Ok(Attempt::Authenticated(Box::new(p))),
            None => Ok(Attempt::Failed),
        },
        None => {
            identity.throttle.record_failure(store, &key).await?;
            Ok(Attempt::Failed)
        }
    }
}

/// Whether `token` has the shape of a user token.
pub fn is_token(token: &str) -> bool {
    token.starts_with(TOKEN_PREFIX)
}

fn token_hash(token: &str) -> String {
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// Issues a token for `principal`; returns it with its expiry (unix seconds).
pub async fn issue_token(
    store: &Store,
    identity: &Identity,
    principal: &Principal,
) -> Result<(String, i64), StoreError> {
    let bytes: [u8; 32] = rand::rng().random();
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
    let lifetime = i64::try_from(identity.settings.token_lifetime.as_secs()).unwrap_or(i64::MAX);
    let now = chrono::Utc::now().timestamp();
    let expires_at = now.saturating_add(lifetime);
    // Expired tokens are useless; issuing is a natural moment to let them go.
    store.purge_expired_tokens(now).await?;
    store
        .insert_token(&TokenRow {
            id: token_hash(&token),
            user_id: principal.user.id.clone(),
            project_id: principal.project.id.clone(),
            expires_at,
            revoked: false,
        })
        .await?;
    Ok((token, expires_at))
}

/// The principal of a live (unexpired, unrevoked) user token, with its expiry.
pub async fn verify_token(
    store: &Store,
    token: &str,
) -> Result<Option<(Principal, i64)>, StoreError> {
    if !is_token(token) {
        return Ok(None);
    }
    let Some(row) = store.token(&token_hash(token)).await? else {
        return Ok(None);
    };
    if row.revoked || row.expires_at <= chrono::Utc::now().timestamp() {
        return Ok(None);
    }
    let Some(user) = store.user_by_id(&row.user_id).await? else {
        return Ok(None);
    };
    Ok(principal(store, user).await?.map(|p| (p, row.expires_at)))
}

/// Revokes a user token; whether it was live.
pub async fn revoke_token(store: &Store, token: &str) -> Result<bool, StoreError> {
    if !is_token(token) {
        return Ok(false);
    }
    store.revoke_token(&token_hash(token)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_imply_the_lesser_ones() {
        assert_eq!(
            Role::Admin.effective_names(),
            vec!["admin", "member", "reader"]
        );
        assert_eq!(Role::Member.effective_names(), vec!["member", "reader"]);
        assert_eq!(Role::Reader.effective_names(), vec!["reader"]);
        assert_eq!(Role::parse("owner"), None);
    }

    #[tokio::test]
    async fn passwords_tokens_and_the_lockout() {
        let (store, _dir) = crate::store::test_store().await;
        let identity = Identity::new(IdentitySettings {
            lockout_failures: 2,
            ..Default::default()
        });
        let p = store.create_project("p").await.unwrap().unwrap();
        let hash = passwords::hash("pw").unwrap();
        store
            .create_user("u", &p.id, "member", &hash)
            .await
            .unwrap()
            .unwrap();
        let Attempt::Authenticated(who) =
            authenticate(&store, &identity, UserRef::Name("u", None), "pw")
                .await
                .unwrap()
        else {
            panic!("the right password failed")
        };
        let (token, _) = issue_token(&store, &identity, &who).await.unwrap();
        assert!(verify_token(&store, &token).await.unwrap().is_some());
        assert!(revoke_token(&store, &token).await.unwrap());
        assert!(verify_token(&store, &token).await.unwrap().is_none());
        for _ in 0..2 {
            assert!(matches!(
                authenticate(&store, &identity, UserRef::Name("u", None), "no")
                    .await
                    .unwrap(),
                Attempt::Failed
            ));
        }
        assert!(matches!(
            authenticate(&store, &identity, UserRef::Name("u", None), "pw")
                .await
                .unwrap(),
            Attempt::LockedOut
        ));
    }
}
