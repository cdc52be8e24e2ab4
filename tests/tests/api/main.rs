//! api-service with a real core-service, over HTTP, against a real Postgres: the calls whose
//! success needs inference. One binary, so that the process loads the models once.

mod consistence;
mod faces;
mod helpers;
