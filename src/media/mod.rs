//! media (to be built).
