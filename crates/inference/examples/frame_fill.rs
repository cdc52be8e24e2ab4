//! Measures how often faces that fill the frame are detected: every sample face at least 40
//! pixels wide is cut out as a tight crop (its box, grown by 0, 10 and 30 %) and as a 112×112
//! aligned chip, and each detector runs on them with the image centred on canvases 1–4 times its
//! size, and through `Detector::detect` (plain pass, then the retry). The numbers are quoted in
//! the detector's documentation and docs/benchmarks.md.
//!
//! ```sh
//! cargo run --release -p visage-inference --example frame_fill
//! ```

use std::error::Error;
use std::path::{Path, PathBuf};

use image::RgbImage;
use visage_imaging::DecodeLimits;
use visage_inference::align::{self, Sampling, Similarity, ARCFACE_SIZE, ARCFACE_TEMPLATE};
use visage_inference::detector::{Detector, DetectorKind, DEFAULT_MAX_DETECT_SIZE};

const KINDS: [&str; 4] = ["crop +0%", "crop +10%", "crop +30%", "chip 112"];

fn load(root: &Path, kind: DetectorKind) -> Result<Detector, Box<dyn Error>> {
    let path = root.join("models").join(kind.file_name());
    Ok(Detector::load(&tract(), kind, &path, DEFAULT_MAX_DETECT_SIZE)?)
}

/// (kind index, image) for every frame-filling case cut from the sample photos.
fn cases(root: &Path, scrfd: &Detector) -> Result<Vec<(usize, RgbImage)>, Box<dyn Error>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("tests/fixtures/upstream-samples"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jpg"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let img = visage_imaging::decode(&std::fs::read(&file)?, &DecodeLimits::default())?.image;
        for face in scrfd.detect(&img, DetectorKind::Scrfd.default_threshold())? {
            if face.bbox.width() < 40.0 {
                continue;
            }
            for (kind, grow) in [0.0f32, 0.1, 0.3].into_iter().enumerate() {
                let (dw, dh) = (face.bbox.width() * grow, face.bbox.height() * grow);
                let x1 = (face.bbox.x1 - dw).max(0.0) as u32;
                let y1 = (face.bbox.y1 - dh).max(0.0) as u32;
                let x2 = ((face.bbox.x2 + dw) as u32).min(img.width());
                let y2 = ((face.bbox.y2 + dh) as u32).min(img.height());
                let crop = image::imageops::crop_imm(&img, x1, y1, x2 - x1, y2 - y1).to_image();
                out.push((kind, crop));
            }
            let to_chip = Similarity::estimate(&face.landmarks, &ARCFACE_TEMPLATE).ok_or("degenerate landmarks")?;
            let chip = align::warp(&img, &to_chip, ARCFACE_SIZE, ARCFACE_SIZE, Sampling::Bilinear);
            out.push((3, chip));
        }
    }
    Ok(out)
}

fn main() -> Result<(), Box<dyn Error>> {
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("../..");
    let cases = cases(&root, &load(&root, DetectorKind::Scrfd)?)?;
    println!("| detector | case | n | canvas ×1 | ×2 | ×3 | ×4 | detect() |");
    println!("|---|---|---|---|---|---|---|---|");
    for kind in [DetectorKind::Scrfd, DetectorKind::RetinaFace] {
        let detector = load(&root, kind)?;
        let threshold = kind.default_threshold();
        for (k, label) in KINDS.iter().enumerate() {
            let group: Vec<&RgbImage> = cases.iter().filter(|c| c.0 == k).map(|c| &c.1).collect();
            let mut line = format!("| {kind:?} | {label} | {} |", group.len());
            for factor in 1..=4 {
                let mut scores = Vec::new();
                for img in &group {
                    if let Some(face) = detector.detect_once(img, threshold, factor)?.first() {
                        scores.push(face.score);
                    }
                }
                scores.sort_by(f32::total_cmp);
                let median = scores.get(scores.len() / 2).copied().unwrap_or(0.0);
                line += &format!(" {} (median score {median:.2}) |", scores.len());
            }
            let mut found = 0;
            for img in &group {
                found += usize::from(!detector.detect(img, threshold)?.is_empty());
            }
            println!("{line} {found} |");
        }
    }
    Ok(())
}

/// The tract backend, one thread per inference.
fn tract() -> visage_inference::backend::Backend {
    visage_inference::backend::Backend::tract(1).expect("this build has tract")
}
