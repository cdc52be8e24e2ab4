//! The migrations are compiled into the crate (`sqlx::migrate!`); rebuild it when one is added or
//! edited, even if no Rust file changed.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
