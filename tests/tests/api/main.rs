//! api-service with a real core-service, over HTTP, against a real Postgres: the calls whose
//! success needs inference. One binary, so that the process loads the models once.

mod admin;
mod compreface;
mod consistence;
mod deletions;
mod detection;
mod durability;
mod embeddings;
mod faces;
mod front_door;
mod helpers;
mod instances;
mod limits;
mod migrate;
mod openapi;
mod operations;
mod quality;
mod recognize;
mod transfer;
mod unknown;
mod verification;
