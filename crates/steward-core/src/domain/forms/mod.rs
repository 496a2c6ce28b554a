//! Forms: the catalogue that declares them ([`catalogue`]), the validation of what a browser sent
//! ([`validation`]) and the submission use case ([`submit`]).

pub mod catalogue;
pub mod submit;
pub mod validation;
