//! Moving a CompreFace 1.x installation into Visage (admin-service's `import-compreface`):
//! reading CompreFace's database, and writing what it holds into ours under CompreFace's own ids.
//!
//! CompreFace's schema is the one its Liquibase changelogs build (exadel-inc/CompreFace,
//! `java/admin/src/main/resources/db/changelog/db.changelog-0.0.1.yaml` to `-0.2.7.yaml`):
//!
//! | table | what | keys |
//! |---|---|---|
//! | `"user"` | accounts: bcrypt password (`{bcrypt}$2a$…`), global role `O`/`A`/`U` | `id` bigint, `guid` (the admin API's id) |
//! | `app` | applications | `id` bigint, `guid`, `api_key` |
//! | `user_app_role` | members: role `O`/`A`/`U` | `(app_id, user_id)` |
//! | `model` | services: `type` `R`/`D`/`V`, `api_key` (what clients send) | `id` bigint, `guid` |
//! | `subject` | the names of a recognition collection, by the service's `api_key` | `id` uuid |
//! | `embedding` | one stored face: its embedding (another model's: not carried over), `img_id` (the `image_id` clients see is `embedding.id`) | `id` uuid |
//! | `img` | the photo of a face; none when CompreFace ran with `save_images_to_db=false` | `id` uuid |
//! | `model_statistic` | requests per service and hour | `id` bigint |
//!
//! [`source`]: [`CompreFace`] reads that database and never writes to it: its sessions are
//! read-only (`default_transaction_read_only`). [`import`]: ours is written in two steps:
//!
//! - [`Store::import_compreface_accounts`]: users, applications, members, services, subjects and
//!   statistics in **one transaction**, upserted on CompreFace's ids, so a second run changes
//!   nothing and an interrupted one left nothing behind. Before writing, the transaction looks
//!   for rows of ours that the import would collide with (an e-mail address, an application or
//!   service name, an API key, a subject name held by another id, a second global OWNER) and,
//!   finding any, rolls back and returns them as [`Conflict`]s.
//! - [`Store::import_compreface_face`]: one re-embedded face with its image, in a transaction of
//!   its own, under the id of CompreFace's embedding (the `image_id` its clients know); faces
//!   already there are left alone ([`Store::existing_face_ids`] finds them first), so an
//!   interrupted import goes on where it stopped.
//!
//! Visage's seeded demo (`migrations/20261128000002_demo.sql`) has the ids of CompreFace's demo
//! (user, application and services `…0001`, API keys `…0002` to `…0004`): CompreFace's demo,
//! where it still exists, lands on ours. What CompreFace no longer has of it is removed from
//! ours while it is untouched (see [`Store::import_compreface_accounts`]), so the public demo keys
//! stay closed where CompreFace had closed them.

pub mod import;
pub mod source;

pub use import::*;
pub use source::*;
