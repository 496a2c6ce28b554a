//! What Steward's data means: validated values, forms, profiles and submissions, and the use cases
//! that act on them. Nothing in here knows about HTTP or DynamoDB.

pub mod audit;
pub mod campaign;
pub mod careers;
pub mod erasure;
pub mod fields;
pub mod form;
pub mod ids;
pub mod payments;
pub mod preferences;
pub mod privacy;
pub mod retention;
pub mod rights;
pub mod submit;
