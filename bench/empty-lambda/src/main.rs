//! An empty `lambda_http` function with the same features, runtime flavour and release profile as
//! Steward's functions: `make bench` compares their init durations with its own, measured in the
//! same run, so that the machine's speed cancels out.

use lambda_http::{service_fn, Body, Error, Request, Response};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_: Request| async { Ok::<_, Error>(Response::new(Body::Empty)) })).await
}
