//! `OS::Heat::*` resource types, one module each.

pub mod deployed_server;
pub mod none;
pub mod random_string;
pub mod software_config;
pub mod software_deployment;
pub mod test_resource;
pub mod value;

#[cfg(test)]
pub(crate) mod test_support;
