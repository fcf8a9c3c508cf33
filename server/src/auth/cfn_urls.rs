//! Pre-signed CFN URLs (EC2 signature v2), Heat's `_get_ec2_signed_url`: a resource gets an
//! access key (a credential row; its secret derived from the server key, never stored)
//! and URLs `PUT <base>/v1/waitcondition/<ARN>` or `POST <base>/v1/signal/<ARN>` signed with
//! it. The server checks them itself: no Keystone, a constant-time compare, and — unlike
//! Heat with Keystone — no 15-minute expiry (a URL ends when its resource is deleted).

use updraft_hooks::ec2_signature;

use crate::auth::temp_url::TempUrls;
use crate::store::{CredentialRow, Store, StoreError};

/// Heat's stack ARN: `arn:openstack:heat::<project>:stacks/<name>/<id>`.
pub fn stack_arn(project: &str, stack_name: &str, stack_id: &str) -> String {
    format!("arn:openstack:heat::{project}:stacks/{stack_name}/{stack_id}")
}

/// Which CFN endpoint a URL is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CfnEndpoint {
    /// `PUT /v1/waitcondition/<ARN>` (AWS wait condition handles).
    WaitCondition,
    /// `POST /v1/signal/<ARN>` (CFN_SIGNAL deployments, scaling policies).
    Signal,
}

impl CfnEndpoint {
    fn verb(self) -> &'static str {
        match self {
            CfnEndpoint::WaitCondition => "PUT",
            CfnEndpoint::Signal => "POST",
        }
    }
    fn segment(self) -> &'static str {
        match self {
            CfnEndpoint::WaitCondition => "waitcondition",
            CfnEndpoint::Signal => "signal",
        }
    }
}

/// Issues an access key for resource `resource` of the stack (a credential with no token
/// secret) and returns the pre-signed URL for `endpoint`.
#[allow(clippy::too_many_arguments)]
pub async fn presigned_url(
    store: &Store,
    urls: &TempUrls,
    endpoint: CfnEndpoint,
    project: &str,
    stack_name: &str,
    stack_id: &str,
    resource: &str,
) -> Result<String, StoreError> {
    let (access_key, secret) = issue_access_key(store, urls, project, stack_id, resource).await?;
    let arn = format!(
        "{}/resources/{resource}",
        stack_arn(project, stack_name, stack_id)
    );
    let base = urls.base().to_lowercase();
    let host = base
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(&base)
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let path = format!("/v1/{}/{arn}", endpoint.segment());
    let params = vec![
        ("SignatureMethod".to_string(), "HmacSHA256".to_string()),
        ("SignatureVersion".to_string(), "2".to_string()),
        ("AWSAccessKeyId".to_string(), access_key.clone()),
        (
            "Timestamp".to_string(),
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ),
    ];
    let signature = ec2_signature::sign(&secret, endpoint.verb(), &host, &path, &params);
    let query: Vec<String> = params
        .iter()
        .chain(std::iter::once(&("Signature".to_string(), signature)))
        .map(|(k, v)| format!("{k}={}", ec2_signature::quote(v)))
        .collect();
    Ok(format!(
        "{base}/v1/{}/{}?{}",
        endpoint.segment(),
        ec2_signature::quote(&arn).replace("%2F", "/"),
        query.join("&")
    ))
}

/// Why a pre-signed request was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CfnAuthError {
    /// No `AWSAccessKeyId` / `Signature`, or the signature does not match.
    #[error("Invalid EC2 signature.")]
    BadSignature,
    /// The key is unknown, revoked or disabled, or the path names another resource.
    #[error("User is not authorized to perform action")]
    Forbidden,
}

/// The stack id and resource a verified request may signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfnTarget {
    /// The stack.
    pub stack_id: String,
    /// The resource.
    pub resource: String,
}

/// Checks the EC2 v2 signature of a request: `verb` and `host` as the client sent them,
/// the URL-decoded `path`, every query (or form) parameter. Returns the live credential of
/// the access key that signed it.
pub async fn verify_signature(
    store: &Store,
    urls: &TempUrls,
    verb: &str,
    host: &str,
    path: &str,
    query: &[(String, String)],
) -> Result<CredentialRow, CfnAuthError> {
    let get = |k: &str| {
        query
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let (Some(access_key), Some(signature)) = (get("AWSAccessKeyId"), get("Signature")) else {
        return Err(CfnAuthError::BadSignature);
    };
    let params: Vec<(String, String)> = query
        .iter()
        .filter(|(k, _)| k != "Signature")
        .cloned()
        .collect();
    let secret = urls.ec2_secret(&access_key);
    // As Keystone: also accept the host without its port (some clients sign it so).
    let bare_host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
    let signed = [host, bare_host]
        .iter()
        .any(|h| ec2_signature::verify(&secret, verb, h, path, &params, &signature));
    if !signed {
        return Err(CfnAuthError::BadSignature);
    }
    store
        .credential(&access_key)
        .await
        .ok()
        .flatten()
        .filter(|c| !c.revoked && !c.disabled)
        .ok_or(CfnAuthError::Forbidden)
}

/// Checks a request to `endpoint`: `host` as the client sent it, the URL-decoded `path`,
/// every query parameter. Returns what it may signal.
pub async fn verify(
    store: &Store,
    urls: &TempUrls,
    endpoint: CfnEndpoint,
    host: &str,
    path: &str,
    query: &[(String, String)],
) -> Result<CfnTarget, CfnAuthError> {
    let credential = verify_signature(store, urls, endpoint.verb(), host, path, query).await?;
    // The path must name the credential's own resource of its own stack.
    let prefix = format!(
        "/v1/{}/arn:openstack:heat::{}:stacks/",
        endpoint.segment(),
        credential.project
    );
    let rest = path.strip_prefix(&prefix).ok_or(CfnAuthError::Forbidden)?;
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        [_name, id, "resources", resource]
            if *id == credential.stack_id && *resource == credential.resource_name =>
        {
            Ok(CfnTarget {
                stack_id: credential.stack_id,
                resource: credential.resource_name,
            })
        }
        _ => Err(CfnAuthError::Forbidden),
    }
}

/// Issues an access key for resource `resource` of stack `stack_id`, for requests the
/// holder signs itself (the cfn collector's `DescribeStackResource`). Returns the key id
/// and its secret (derived from the server key, never stored).
pub async fn issue_access_key(
    store: &Store,
    urls: &TempUrls,
    project: &str,
    stack_id: &str,
    resource: &str,
) -> Result<(String, String), StoreError> {
    let access_key = uuid::Uuid::new_v4().simple().to_string();
    store
        .insert_credential(&CredentialRow {
            id: access_key.clone(),
            project: project.to_string(),
            stack_id: stack_id.to_string(),
            resource_name: resource.to_string(),
            secret_hash: String::new(),
            revoked: false,
            disabled: false,
        })
        .await?;
    let secret = urls.ec2_secret(&access_key);
    Ok((access_key, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query_of(url: &str) -> (String, String, Vec<(String, String)>) {
        let (front, query) = url.split_once('?').unwrap();
        let rest = front.split_once("://").unwrap().1;
        let (host, path) = rest.split_once('/').unwrap();
        let path = percent_encoding::percent_decode_str(&format!("/{path}"))
            .decode_utf8()
            .unwrap()
            .into_owned();
        let params = query
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (
                    k.to_string(),
                    percent_encoding::percent_decode_str(v)
                        .decode_utf8()
                        .unwrap()
                        .into_owned(),
                )
            })
            .collect();
        (host.to_string(), path, params)
    }

    #[tokio::test]
    async fn presigned_urls_verify_for_their_resource_only() {
        let (store, _dir) = crate::store::test_store().await;
        let urls = TempUrls::new("http://127.0.0.1:8000", b"k".to_vec());
        let url = presigned_url(
            &store,
            &urls,
            CfnEndpoint::WaitCondition,
            "p",
            "s",
            "sid",
            "h",
        )
        .await
        .unwrap();
        assert!(url.starts_with("http://127.0.0.1:8000/v1/waitcondition/arn%3Aopenstack%3Aheat%3A%3Ap%3Astacks/s/sid/resources/h?"), "{url}");
        let (host, path, params) = query_of(&url);
        let target = verify(
            &store,
            &urls,
            CfnEndpoint::WaitCondition,
            &host,
            &path,
            &params,
        )
        .await
        .unwrap();
        assert_eq!(target.resource, "h");
        // Another verb or path, a tampered signature: refused.
        assert_eq!(
            verify(
                &store,
                &urls,
                CfnEndpoint::Signal,
                &host,
                &path.replace("waitcondition", "signal"),
                &params
            )
            .await,
            Err(CfnAuthError::BadSignature)
        );
        let mut tampered = params.clone();
        for (k, v) in tampered.iter_mut() {
            if k == "Timestamp" {
                v.push('1');
            }
        }
        assert_eq!(
            verify(
                &store,
                &urls,
                CfnEndpoint::WaitCondition,
                &host,
                &path,
                &tampered
            )
            .await,
            Err(CfnAuthError::BadSignature)
        );
        store.revoke_credentials("sid", "h").await.unwrap();
        assert_eq!(
            verify(
                &store,
                &urls,
                CfnEndpoint::WaitCondition,
                &host,
                &path,
                &params
            )
            .await,
            Err(CfnAuthError::Forbidden)
        );
    }
}
