//! The privacy center's use cases, as the policy names the rights: signing in and seeing
//! everything held ([`access`]); correcting ([`correction`]), limiting and withdrawing
//! ([`limits`]) and exporting ([`export`]), with what they share ([`rights`]);
//! erasure ([`erasure`]); what expires by itself ([`retention`]); receipts of each consent
//! ([`receipts`]); and the record of each request answered ([`audit`]).

pub mod access;
pub mod audit;
pub mod correction;
pub mod erasure;
pub mod export;
pub mod limits;
pub mod receipts;
pub mod requests;
pub mod retention;
pub mod rights;
