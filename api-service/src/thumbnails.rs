//! Square face thumbnails of stored photos (`GET /recognition/faces/{image_id}/thumbnail`).
//!
//! A thumbnail decodes the whole stored photo: up to `MAX_FILE_SIZE` (5 MB) of compressed data
//! that may hold 50 megapixels, about 150 MB of RGB and as much again while an EXIF rotation is
//! applied (on a 2-core test machine a 50-megapixel JPEG took 0.17 s and 150 MB at its peak, the
//! sample photos of 12 to 33 megapixels 0.05 to 0.18 s). So at most [`WORKERS`] are made at once,
//! on the blocking pool; the others wait for their turn before their photo is even read from the
//! database, so a burst of requests holds no photos while it waits. Decoding is bounded by
//! [`LIMITS`]: the pixel limits of core-service's default, and less decoder memory, which refuses
//! only photos of 16-bit samples near the pixel limit. Worst case, the thumbnails take about
//! `WORKERS × 2 × 192 MiB` of memory whatever the number of requests.

use tokio::sync::Semaphore;
use uuid::Uuid;
use visage_common::{ApiError, ErrorCode};
use visage_imaging::{DecodeError, DecodeLimits};
use visage_store::{FaceBox, Store};

use crate::error::store_error;

/// Thumbnails made at once. Memory, not CPU, is what they are bounded for.
pub const WORKERS: usize = 2;
/// The smallest and largest side of a thumbnail, and the side when none is asked for.
pub const MIN_SIZE: u32 = 32;
pub const MAX_SIZE: u32 = 512;
pub const DEFAULT_SIZE: u32 = 160;

/// How a stored photo is decoded for a thumbnail: core-service's default pixel limits (the
/// photo passed core's decoding when it was stored), and at most 192 MiB of decoder memory, enough
/// for 50 megapixels of 8-bit RGB.
pub const LIMITS: DecodeLimits = DecodeLimits { max_pixels: 50_000_000, max_side: 16_384, max_alloc: 192 << 20 };

/// Makes thumbnails, [`WORKERS`] at a time.
#[derive(Debug)]
pub struct Thumbnails {
    permits: Semaphore,
}

impl Default for Thumbnails {
    fn default() -> Self {
        Self { permits: Semaphore::new(WORKERS) }
    }
}

impl Thumbnails {
    /// The `size` × `size` JPEG thumbnail of a face of service `model_id`: 404 code 44 when the
    /// service has no such face or the face has no stored photo.
    pub async fn make(&self, store: &Store, model_id: Uuid, image_id: Uuid, size: u32) -> Result<Vec<u8>, ApiError> {
        // Waiting for a turn holds nothing but this request.
        let _permit = self.permits.acquire().await.map_err(|_| ApiError::unexpected())?;
        let photo = store.face_photo(model_id, image_id).await.map_err(store_error)?;
        let Some(photo) = photo else {
            return Err(ApiError::new(ErrorCode::ImageNotFound, format!("Image {image_id} not found")));
        };
        let Some(image) = photo.image else {
            return Err(ApiError::new(ErrorCode::ImageNotFound, format!("Image {image_id} is not stored")));
        };
        let face = photo.face_box.map(corners);
        let made = visage_http::spawn_blocking(move || visage_imaging::face_thumbnail(&image, &LIMITS, face, size))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, %image_id, "making a thumbnail failed");
                ApiError::unexpected().with_status(500)
            })?;
        made.map_err(|e| unreadable(image_id, &e))
    }
}

/// A stored box as the imaging crate takes it.
fn corners(b: FaceBox) -> [u32; 4] {
    let pixel = |v: i32| u32::try_from(v).unwrap_or(0);
    [pixel(b.x_min), pixel(b.y_min), pixel(b.x_max), pixel(b.y_max)]
}

/// A stored photo that cannot be made into a thumbnail: 500 code 0 saying why (the photo
/// passed core-service's decoding when it was stored).
fn unreadable(image_id: Uuid, e: &DecodeError) -> ApiError {
    tracing::warn!(error = %e, %image_id, "a stored photo cannot be made into a thumbnail");
    ApiError::new(ErrorCode::Undefined, format!("No thumbnail can be made of image {image_id}: {e}")).with_status(500)
}
