//! runner (to be built).
