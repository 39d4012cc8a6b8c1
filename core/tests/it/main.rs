//! The one integration-test binary of `onboarding-core`: shared vectors, the CLI, property
//! tests, third-party corpora and reference data, and the rules fingerprint.

mod cli;
mod corpora;
mod fingerprint;
mod helpers;
mod json;
mod layout;
mod props;
mod reference_data;
mod unicode;
mod vectors;
