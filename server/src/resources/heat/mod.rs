//! `OS::Heat::*` resource types, one module each.

pub mod autoscaling_group;
pub mod cfn_stack;
pub mod cloud_config;
pub mod collect_config;
pub mod delay;
pub mod deployed_server;
pub mod deployment_rules;
pub mod group_members;
pub mod multipart_mime;
pub mod none;
pub mod random_string;
pub mod resource_chain;
pub mod resource_group;
pub mod scaling;
pub mod scaling_policy;
pub mod software_component;
pub mod software_config;
pub mod software_deployment;
pub mod software_deployment_group;
pub mod stack;
pub mod stack_resource;
pub mod structured_config;
pub mod structured_deployment;
pub mod template_resource;
pub mod test_resource;
pub mod value;
pub mod wait_condition;
pub mod wait_condition_handle;

/// Sleeps `secs` seconds; a negative (or unrepresentably long) wait lasts until the future is
/// dropped. Cancellation-safe: nothing is held across the sleep.
pub(crate) async fn sleep_secs(secs: f64) {
    if secs == 0.0 || secs.is_nan() {
        return;
    }
    match std::time::Duration::try_from_secs_f64(secs) {
        Ok(d) => tokio::time::sleep(d).await,
        Err(_) => std::future::pending::<()>().await,
    }
}

#[cfg(test)]
pub(crate) mod test_support;
