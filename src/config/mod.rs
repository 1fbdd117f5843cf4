//! Configuration: ha.cf, authkeys, haresources, nodeinfo.
pub mod model;
