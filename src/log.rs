//! Heartbeat-format logging (to be built).
