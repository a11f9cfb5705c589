//! `sqlx::migrate!` embeds the migrations at compile time, but cargo only knows the Rust files
//! the compiler read: without this, a new migration file leaves an incremental build running
//! the old set.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
