//! Updraft server: a Heat-compatible REST API and orchestration engine.
//!
//! Layout (see ARCHITECTURE.md): [`template`] (pure template language), [`engine`]
//! (planning and running stack actions), [`resources`] (one module per resource type),
//! [`store`] (the only SQL), [`api`] (HTTP), [`auth`] (tokens and capability URLs),
//! [`app`] (wiring a server together).

pub mod api;
pub mod app;
pub mod auth;
pub mod engine;
pub mod resources;
pub mod store;
pub mod template;
