//! Forms: the catalogue that declares them ([`catalogue`]), the validation of what a browser sent
//! ([`validation`]), the proof of work that keeps bots out ([`proof`]) and the submission use case
//! ([`submit`]).

pub mod catalogue;
pub mod inbox;
pub mod proof;
pub mod submit;
pub mod validation;
