//! mm-bindgen: generates the Mattermost plugin gRPC bridge (Go adapters,
//! Python SDK, docs) from the protobuf definitions of the Plugin API.
//!
//! The pipeline has one module per stage:
//! [`load`] → [`build`] → [`validate`] → [`lower`] → [`render`] → [`output`].
//! [`pipeline`] strings them together; the binary is a thin CLI over it.

pub mod build;
pub mod config;
pub mod diag;
pub mod diff;
pub mod load;
pub mod lower;
pub mod model;
pub mod output;
pub mod parallel;
pub mod pipeline;
pub mod plugins;
pub mod render;
pub mod scaffold;
pub mod validate;
