//! Authentication and authorisation: the admin token, per-resource credentials and
//! capability (temp) URLs, and the users of projects (identity).

pub mod admin_token;
pub mod cfn_urls;
pub mod passwords;
pub mod resource_credentials;
pub mod stack_users;
pub mod temp_url;
pub mod throttle;
pub mod users;
