//! Shared support for integration tests (`mod common;` in a test file).
// Each test binary uses only part of the support code.
#![allow(dead_code)]

pub mod lab;
