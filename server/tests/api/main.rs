//! The one integration-test binary of the server: the API over real HTTP (app on port 0) against
//! real databases — SQLite (a temp file) and PostgreSQL (a fresh database per test, when
//! `TEST_DATABASE_URL` is set; under CI it must be).

mod cli;
mod cors;
mod domains;
mod helpers;
mod hostile;
mod insights;
mod invitations;
mod jwks;
mod mail;
mod migrations;
mod onboarding;
mod reliability;
mod shared;
mod status_cache;
mod tenancy;
mod write_path;
