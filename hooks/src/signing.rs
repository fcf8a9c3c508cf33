//! Capability-URL signing for the temp-URL transports.
//!
//! The server hands out URLs such as `/temp_url/v1/metadata/<server id>?temp_url_sig=<hex>`;
//! the signature is HMAC-SHA256 over `"<METHOD>\n<path>"` with a key only the server knows,
//! so holding the URL is the whole authorisation (Swift temp-URL style, no expiry: the URL
//! stops working when the resource behind it is deleted).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Query parameter carrying the signature.
pub const SIGNATURE_PARAM: &str = "temp_url_sig";

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], method: &str, path: &str) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(method.as_bytes());
    mac.update(b"\n");
    mac.update(path.as_bytes());
    mac
}

/// Hex signature of `method` + `path` under `key`.
pub fn sign(key: &[u8], method: &str, path: &str) -> String {
    hex::encode(mac(key, method, path).finalize().into_bytes())
}

/// Checks `signature_hex` in constant time.
pub fn verify(key: &[u8], method: &str, path: &str, signature_hex: &str) -> bool {
    let Ok(sig) = hex::decode(signature_hex) else {
        return false;
    };
    mac(key, method, path).verify_slice(&sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_binds_method_and_path() {
        let key = b"secret";
        let sig = sign(key, "GET", "/temp_url/v1/metadata/abc");
        assert!(verify(key, "GET", "/temp_url/v1/metadata/abc", &sig));
        assert!(!verify(key, "PUT", "/temp_url/v1/metadata/abc", &sig));
        assert!(!verify(key, "GET", "/temp_url/v1/metadata/abd", &sig));
        assert!(!verify(b"other", "GET", "/temp_url/v1/metadata/abc", &sig));
        assert!(!verify(key, "GET", "/temp_url/v1/metadata/abc", "zz"));
    }
}
