//! S3: the presigned POST a browser uploads a CV with ([`post`]), and the CV bucket's objects
//! (verifying uploads, erasure, sweeps and exports: [`cv_bucket`], feature `s3`).

#[cfg(feature = "s3")]
pub mod cv_bucket;
pub mod post;
