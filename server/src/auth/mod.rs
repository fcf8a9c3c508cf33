//! Authentication and authorisation: the admin token and capability (temp) URLs.

pub mod admin_token;
pub mod temp_url;
