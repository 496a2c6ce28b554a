//! The privacy center's use cases, as the policy names the rights: signing in and seeing
//! everything held ([`access`]); correcting, limiting, withdrawing and exporting ([`rights`]);
//! erasure ([`erasure`]); what expires by itself ([`retention`]); and the record of each
//! request answered ([`audit`]).

pub mod access;
pub mod audit;
pub mod erasure;
pub mod retention;
pub mod rights;
