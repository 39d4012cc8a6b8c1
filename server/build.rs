//! `sqlx::migrate!` embeds `../migrations` at compile time, but cargo does not know the macro
//! reads that folder: without this, a new migration file is left out until something else
//! makes the crate rebuild.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
