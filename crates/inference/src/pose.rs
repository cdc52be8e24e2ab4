//! Head pose (pitch, roll, yaw in degrees) from five facial landmarks.
//!
//! # How pose is computed
//!
//! The five landmarks (eye centres, nose tip, mouth corners) are matched to a rigid 3-D mean face
//! seen by a scaled orthographic camera, and the rotation of that face is reported as three
//! Tait–Bryan angles.
//!
//! * **The 3-D face.** Its x and y coordinates are the standard 112×112 ArcFace template
//!   ([`ARCFACE_TEMPLATE`]), made left–right symmetric, so a face lying exactly on the template
//!   has pose 0/0/0. The eyes and mouth corners lie in one plane; the nose tip stands in front of
//!   it by half the distance between the eyes (the proportion of CompreFace's own 3-D key-point
//!   model).
//! * **The fit.** With both point sets centred, the 2×3 linear map `A` taking the 3-D points to
//!   the image points is solved by least squares (ten equations, six unknowns). Eyes and mouth fix
//!   how the face plane is scaled and turned; the nose tip's offset from where that plane alone
//!   would put it fixes the third column, i.e. the direction the face points. `A` is then replaced
//!   by the nearest matrix `s·[r₁; r₂]` with orthonormal rows (`(A·Aᵀ)^-½·A`), and `r₃ = r₁ × r₂`
//!   completes the rotation. No iteration, no camera parameters: a closed form that is exact for
//!   orthographic views of the mean face and degrades gently with perspective and with faces of
//!   other proportions.
//! * **The angles.** The rotation is split as `R = Rz(roll) · Ry(−yaw) · Rx(−pitch)` in image
//!   axes (x right, y down, z away from the camera): pitch is applied first, then yaw, then the
//!   in-plane roll. All three are 0 for a frontal, upright face, and:
//!   * `roll > 0` when the face is turned clockwise in the image (the eye on the image's right is
//!     lower than the other);
//!   * `yaw > 0` when the face turns towards the image's right (the person looks to their own
//!     left; the nose moves right of the eyes' and mouth's mid-line);
//!   * `pitch > 0` when the face tilts up (chin up; the nose moves towards the eye line).
//!
//! # Which five points
//!
//! [`estimate`] takes any five points in the detector's order. The points read off the 106-point
//! landmarks ([`crate::landmarks106::five_points`]) are the better input: SCRFD's own five are
//! coarser: on the sample photos they under-read a 20° rotation of the photo by up to 5° and let
//! yaw differ by up to 6° between a photo and its mirror image, where the 106-point ones stay
//! within 1° and about 3°.
//!
//! # Limits
//!
//! Yaw and pitch scale with how far the person's nose actually stands out (a nose 10 % shallower
//! than the model's reads a 40° turn as about 35°), and a camera nearer than a metre or so adds a
//! few degrees of perspective. Pitch is measured from the ArcFace template's proportions; on the
//! sample portraits, faces looking at the camera read between about −18° and +1°.
//!
//! Upstream derives its angles from OpenCV's `solvePnP` on a 3-D model whose y axis points up
//! while the image's points down, so a frontal face there reads as a pitch near ±180°. Here every
//! angle is centred on the frontal pose instead.

use crate::align::ARCFACE_TEMPLATE;
use crate::types::Landmarks5;

/// Head pose in degrees; see the [module documentation](self) for the sign conventions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pose {
    pub pitch: f32,
    pub roll: f32,
    pub yaw: f32,
}

/// The 3-D mean face, in ArcFace template pixels, origin between the eyes, x right, y down, z away
/// from the camera (the nose tip has negative z).
fn mean_face() -> [[f64; 3]; 5] {
    let t = ARCFACE_TEMPLATE.map(|p| [p[0] as f64, p[1] as f64]);
    let eye_half = (t[1][0] - t[0][0]) / 2.0;
    let mouth_half = (t[4][0] - t[3][0]) / 2.0;
    let eye_y = (t[0][1] + t[1][1]) / 2.0;
    let nose_y = t[2][1] - eye_y;
    let mouth_y = (t[3][1] + t[4][1]) / 2.0 - eye_y;
    let nose_depth = eye_half;
    [
        [-eye_half, 0.0, 0.0],
        [eye_half, 0.0, 0.0],
        [0.0, nose_y, -nose_depth],
        [-mouth_half, mouth_y, 0.0],
        [mouth_half, mouth_y, 0.0],
    ]
}

/// Estimates the head pose from five landmarks in image pixels. `None` when the points are not
/// finite or are degenerate (for instance all equal), so no rotation can be fitted.
pub fn estimate(landmarks: &Landmarks5) -> Option<Pose> {
    let model = mean_face();
    let pts = landmarks.map(|p| [p[0] as f64, p[1] as f64]);
    if pts.iter().flatten().any(|v| !v.is_finite()) {
        return None;
    }
    let n = pts.len() as f64;
    let mut m_mean = [0f64; 3];
    let mut p_mean = [0f64; 2];
    for (m, p) in model.iter().zip(&pts) {
        for k in 0..3 {
            m_mean[k] += m[k] / n;
        }
        for k in 0..2 {
            p_mean[k] += p[k] / n;
        }
    }
    // Normal equations of x̃ ≈ A·X̃: A = (Σ x̃·X̃ᵀ)(Σ X̃·X̃ᵀ)⁻¹.
    let mut xx = [[0f64; 3]; 3];
    let mut px = [[0f64; 3]; 2];
    for (m, p) in model.iter().zip(&pts) {
        let mc = [m[0] - m_mean[0], m[1] - m_mean[1], m[2] - m_mean[2]];
        let pc = [p[0] - p_mean[0], p[1] - p_mean[1]];
        for i in 0..3 {
            for j in 0..3 {
                xx[i][j] += mc[i] * mc[j];
            }
        }
        for i in 0..2 {
            for j in 0..3 {
                px[i][j] += pc[i] * mc[j];
            }
        }
    }
    let xx_inv = invert3(&xx)?;
    let mut a = [[0f64; 3]; 2];
    for i in 0..2 {
        for j in 0..3 {
            a[i][j] = (0..3).map(|k| px[i][k] * xx_inv[k][j]).sum();
        }
    }
    // Nearest matrix with orthonormal rows: (A·Aᵀ)^-½·A.
    let b = [[dot(&a[0], &a[0]), dot(&a[0], &a[1])], [dot(&a[0], &a[1]), dot(&a[1], &a[1])]];
    let w = inv_sqrt_sym2(&b)?;
    let r1 = lin2(w[0], &a);
    let r2 = lin2(w[1], &a);
    let r3 = cross(&r1, &r2);
    // R = Rz(ρ)·Ry(ψ)·Rx(φ): R[2][0] = −sin ψ, R[2][1] = cos ψ·sin φ, R[2][2] = cos ψ·cos φ,
    // R[1][0] = cos ψ·sin ρ, R[0][0] = cos ψ·cos ρ.
    let psi = (-r3[0]).clamp(-1.0, 1.0).asin();
    let phi = r3[1].atan2(r3[2]);
    let rho = r2[0].atan2(r1[0]);
    let pose =
        Pose { pitch: (-phi).to_degrees() as f32, roll: rho.to_degrees() as f32, yaw: (-psi).to_degrees() as f32 };
    [pose.pitch, pose.roll, pose.yaw].iter().all(|v| v.is_finite()).then_some(pose)
}

fn dot(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: &[f64; 3], b: &[f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

/// `w[0]·rows[0] + w[1]·rows[1]`.
fn lin2(w: [f64; 2], rows: &[[f64; 3]; 2]) -> [f64; 3] {
    [0, 1, 2].map(|j| w[0] * rows[0][j] + w[1] * rows[1][j])
}

/// Inverse of a 3×3 matrix by cofactors; `None` when it is (nearly) singular.
fn invert3(m: &[[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let c = |r0: usize, r1: usize, c0: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    let cof = [
        [c(1, 2, 1, 2), -c(1, 2, 0, 2), c(1, 2, 0, 1)],
        [-c(0, 2, 1, 2), c(0, 2, 0, 2), -c(0, 2, 0, 1)],
        [c(0, 1, 1, 2), -c(0, 1, 0, 2), c(0, 1, 0, 1)],
    ];
    let det = m[0][0] * cof[0][0] + m[0][1] * cof[0][1] + m[0][2] * cof[0][2];
    if !det.is_finite() || det.abs() < 1e-12 {
        return None;
    }
    // The inverse is the transposed cofactor matrix over the determinant.
    Some([0, 1, 2].map(|i| [0, 1, 2].map(|j| cof[j][i] / det)))
}

/// Inverse square root of a symmetric positive-definite 2×2 matrix:
/// `√B = (B + √det·I) / √(tr + 2·√det)`, inverted in closed form.
fn inv_sqrt_sym2(b: &[[f64; 2]; 2]) -> Option<[[f64; 2]; 2]> {
    let det = b[0][0] * b[1][1] - b[0][1] * b[1][0];
    let tr = b[0][0] + b[1][1];
    if !(det.is_finite() && det > 1e-12 && tr > 0.0) {
        return None;
    }
    let sd = det.sqrt();
    let t = (tr + 2.0 * sd).sqrt();
    let s = [[(b[0][0] + sd) / t, b[0][1] / t], [b[1][0] / t, (b[1][1] + sd) / t]];
    let sdet = s[0][0] * s[1][1] - s[0][1] * s[1][0];
    if sdet.abs() < 1e-12 {
        return None;
    }
    Some([[s[1][1] / sdet, -s[0][1] / sdet], [-s[1][0] / sdet, s[0][0] / sdet]])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rotation this module reports for the given angles (degrees), as a matrix.
    fn rotation(pitch: f64, yaw: f64, roll: f64) -> [[f64; 3]; 3] {
        let (phi, psi, rho) = (-pitch.to_radians(), -yaw.to_radians(), roll.to_radians());
        let rx = [[1.0, 0.0, 0.0], [0.0, phi.cos(), -phi.sin()], [0.0, phi.sin(), phi.cos()]];
        let ry = [[psi.cos(), 0.0, psi.sin()], [0.0, 1.0, 0.0], [-psi.sin(), 0.0, psi.cos()]];
        let rz = [[rho.cos(), -rho.sin(), 0.0], [rho.sin(), rho.cos(), 0.0], [0.0, 0.0, 1.0]];
        mul3(&rz, &mul3(&ry, &rx))
    }

    fn mul3(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
        [0, 1, 2].map(|i| [0, 1, 2].map(|j| (0..3).map(|k| a[i][k] * b[k][j]).sum()))
    }

    /// Projects `face` rotated by the angles, scaled by `scale` and placed at `(cx, cy)`. With
    /// `distance` set, a pinhole camera that far away (in face units) adds perspective.
    fn project(face: &[[f64; 3]; 5], angles: (f64, f64, f64), scale: f64, distance: Option<f64>) -> Landmarks5 {
        let r = rotation(angles.0, angles.1, angles.2);
        let (cx, cy) = (320.0, 240.0);
        face.map(|p| {
            let q = [0, 1, 2].map(|i| dot(&r[i], &p));
            let f = distance.map_or(1.0, |d| d / (d + q[2]));
            [(cx + scale * q[0] * f) as f32, (cy + scale * q[1] * f) as f32]
        })
    }

    fn assert_close(pose: Pose, expected: (f64, f64, f64), tol: f32) {
        let (p, y, r) = (expected.0 as f32, expected.1 as f32, expected.2 as f32);
        assert!(
            (pose.pitch - p).abs() <= tol && (pose.yaw - y).abs() <= tol && (pose.roll - r).abs() <= tol,
            "expected pitch {p} yaw {y} roll {r}, got {pose:?}"
        );
    }

    const ANGLES: [(f64, f64, f64); 11] = [
        (0.0, 0.0, 0.0),
        (0.0, 30.0, 0.0),
        (0.0, -45.0, 0.0),
        (20.0, 0.0, 0.0),
        (-25.0, 0.0, 0.0),
        (0.0, 0.0, 35.0),
        (0.0, 0.0, -60.0),
        (15.0, -30.0, 10.0),
        (-20.0, 40.0, -25.0),
        (10.0, 20.0, 170.0),
        (-10.0, -15.0, -120.0),
    ];

    #[test]
    fn recovers_known_rotations_of_the_mean_face_exactly_without_perspective() {
        let face = mean_face();
        for angles in ANGLES {
            let pose = estimate(&project(&face, angles, 3.0, None)).expect("pose");
            assert_close(pose, angles, 0.01);
        }
    }

    #[test]
    fn recovers_rotations_within_a_few_degrees_under_perspective() {
        // A pinhole camera 24 eye distances away (1.5 m for a 63 mm eye distance): the nose, nearer
        // to the camera than the eyes and mouth, is magnified a little more than they are.
        let face = mean_face();
        let distance = 24.0 * 2.0 * face[1][0];
        for angles in ANGLES {
            let pose = estimate(&project(&face, angles, 4.0, Some(distance))).expect("pose");
            assert_close(pose, angles, 3.0);
        }
    }

    #[test]
    fn the_arcface_template_is_frontal() {
        let pose = estimate(&ARCFACE_TEMPLATE).expect("pose");
        assert_close(pose, (0.0, 0.0, 0.0), 0.5);
    }

    #[test]
    fn signs_follow_the_image() {
        let base = ARCFACE_TEMPLATE;
        // Nose shifted towards the image's right: the face turns right, yaw > 0.
        let mut right = base;
        right[2][0] += 6.0;
        let pose = estimate(&right).expect("pose");
        assert!(pose.yaw > 10.0 && pose.pitch.abs() < 2.0, "{pose:?}");
        // Nose shifted up towards the eyes: chin up, pitch > 0.
        let mut up = base;
        up[2][1] -= 5.0;
        let pose = estimate(&up).expect("pose");
        assert!(pose.pitch > 10.0 && pose.yaw.abs() < 2.0, "{pose:?}");
        // The whole face turned clockwise by 20° in the image: roll = +20.
        let (s, c) = 20f32.to_radians().sin_cos();
        let turned = base.map(|[x, y]| [c * (x - 56.0) - s * (y - 72.0), s * (x - 56.0) + c * (y - 72.0)]);
        assert!(turned[1][1] > turned[0][1], "the image-right eye is the lower one");
        let pose = estimate(&turned).expect("pose");
        assert!((pose.roll - 20.0).abs() < 0.5 && pose.yaw.abs() < 1.0, "{pose:?}");
    }

    #[test]
    fn degenerate_landmarks_give_no_pose() {
        assert_eq!(estimate(&[[10.0, 10.0]; 5]), None);
        let mut bad = ARCFACE_TEMPLATE;
        bad[2][0] = f32::NAN;
        assert_eq!(estimate(&bad), None);
        // All five points on one line.
        let line: Landmarks5 = [[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0]];
        assert_eq!(estimate(&line), None);
    }
}
