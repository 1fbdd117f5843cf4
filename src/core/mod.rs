//! core (to be built).
