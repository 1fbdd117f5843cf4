//! Heartbeat's admin surface: the API socket (`cl_status` and other
//! clients), the control FIFO (`hb_standby`, `hb_takeover`,
//! `ha_clustermsg`) and the status snapshot they answer from.
//!
//! Daemon side: fill a [`view::ClusterView`], bind an [`api::ApiServer`] at
//! comm-up, open a [`fifo::FifoReader`] at start-up. Client side:
//! [`client::ApiClient`], [`cl_status`], [`standby`].
pub mod api;
pub mod auth;
pub mod cl_status;
pub mod client;
pub mod fifo;
pub mod framing;
pub mod from_core;
pub mod getopt;
pub mod notify;
pub mod params;
pub mod requests;
pub mod snapshot;
pub mod standby;
pub mod view;

pub use api::{ApiAction, ApiServer};
pub use fifo::FifoReader;
pub use view::{ClusterView, GroupView, LinkView, NodeType, NodeView};
