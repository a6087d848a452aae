//! Standardise and validate customer records. Pure: no IO, no clock except through the caller's `today`.
//!
//! [`clean_record`] turns a mapped [`model::CustomerRecord`] into a [`model::CleanRecord`] plus the
//! [`model::Issue`]s found; each field has its own module (`name`, `email`, `phone`, `postcode`, `date`,
//! `address`). Bad values are dropped with an issue, never silently, and nothing here panics on any input.

pub mod address;
pub mod consent;
pub mod country;
pub mod date;
pub mod email;
pub mod name;
pub mod phone;
pub mod postcode;
mod record;
pub mod text;

pub use record::{CleanContext, clean_record};
