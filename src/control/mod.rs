//! control (to be built).
