//! Plain data shared by every stage of the pipeline.

/// Five facial landmarks in image pixels, in the order every model here uses: the eye on the
/// image's left, the eye on the image's right, the nose tip, the mouth corner on the image's left,
/// the mouth corner on the image's right.
pub type Landmarks5 = [[f32; 2]; 5];

/// An axis-aligned box in image pixels; `x1 <= x2`, `y1 <= y2`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
}

impl BoundingBox {
    pub fn width(&self) -> f32 {
        (self.x2 - self.x1).max(0.0)
    }

    pub fn height(&self) -> f32 {
        (self.y2 - self.y1).max(0.0)
    }

    pub fn area(&self) -> f32 {
        self.width() * self.height()
    }

    /// Intersection over union with another box (0 when either is empty).
    pub fn iou(&self, other: &BoundingBox) -> f32 {
        let w = (self.x2.min(other.x2) - self.x1.max(other.x1)).max(0.0);
        let h = (self.y2.min(other.y2) - self.y1.max(other.y1)).max(0.0);
        let inter = w * h;
        let union = self.area() + other.area() - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }

    pub fn contains(&self, x: f32, y: f32) -> bool {
        x >= self.x1 && x <= self.x2 && y >= self.y1 && y <= self.y2
    }
}

/// One detected face, in the pixel coordinates of the image that was passed to the detector's
/// caller (the original image, not the downscaled copy the network saw).
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub bbox: BoundingBox,
    /// Detector confidence in `[0, 1]`.
    pub score: f32,
    pub landmarks: Landmarks5,
}
