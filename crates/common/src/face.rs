//! The JSON of faces, as core-service writes it and api-service reads and extends it.
//!
//! Field names and shapes are CompreFace's. Optional parts (plugins) are omitted when absent;
//! probabilities are rounded to 5 decimals when written.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::similarity::serialize_round5;

/// A face box in original-image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"probability": 0.99838, "x_min": 257, "y_min": 79, "x_max": 413, "y_max": 290}))]
pub struct FaceBox {
    /// How sure the detector is that this is a face, to 5 decimals.
    #[serde(serialize_with = "serialize_round5")]
    pub probability: f64,
    pub x_min: i64,
    pub y_min: i64,
    pub x_max: i64,
    pub y_max: i64,
}

/// The age range of a face (the `age` plugin), in years.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"probability": 0.92681, "high": 32, "low": 25}))]
pub struct Age {
    #[serde(serialize_with = "serialize_round5")]
    pub probability: f64,
    pub high: u32,
    pub low: u32,
}

/// The gender of a face (the `gender` plugin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"probability": 0.99518, "value": "female"}))]
pub struct Gender {
    #[serde(serialize_with = "serialize_round5")]
    pub probability: f64,
    /// `"male"` or `"female"`.
    pub value: String,
}

/// Head pose in degrees (the `pose` plugin).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"pitch": -3.2, "roll": 1.7, "yaw": 12.4}))]
pub struct Pose {
    pub pitch: f64,
    pub roll: f64,
    pub yaw: f64,
}

/// How usable a face is for recognition (the `quality` plugin, ours): `value` in [0, 1], at least
/// 0.5 exactly when `reasons` is empty; reasons among `small`, `blurred`, `dark`, `bright`,
/// `turned`, `uncertain`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"value": 0.83, "reasons": []}))]
pub struct Quality {
    #[serde(serialize_with = "serialize_round5")]
    pub value: f64,
    pub reasons: Vec<String>,
}

/// Whether a face wears a mask (the `mask` plugin): `value` `with_mask` or `without_mask`, the
/// more probable of the two, with its probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"probability": 0.98765, "value": "without_mask"}))]
pub struct Mask {
    #[serde(serialize_with = "serialize_round5")]
    pub probability: f64,
    pub value: String,
}

/// One face with whatever the requested plugins added; absent parts are omitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "age": {"probability": 0.92681, "high": 32, "low": 25},
    "gender": {"probability": 0.99518, "value": "female"},
    "box": {"probability": 0.99838, "x_min": 257, "y_min": 79, "x_max": 413, "y_max": 290},
    "landmarks": [[305, 165], [371, 164], [339, 203], [312, 240], [366, 239]],
    "execution_time": {"age": 5, "gender": 4, "detector": 31}
}))]
pub struct Face {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    /// With the `age` plugin.
    pub age: Option<Age>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    /// With the `gender` plugin.
    pub gender: Option<Gender>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    /// With the `pose` plugin.
    pub pose: Option<Pose>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    /// With the `quality` plugin (ours).
    pub quality: Option<Quality>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    /// With the `mask` plugin.
    pub mask: Option<Mask>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    /// The face's embedding, with the `calculator` plugin.
    pub embedding: Option<Vec<f32>>,
    #[serde(rename = "box")]
    pub bbox: FaceBox,
    /// Five points `[x, y]`: the eyes, the nose tip, the mouth corners (with the `landmarks`
    /// plugin, which every detector provides).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub landmarks: Option<Vec<[i64; 2]>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    /// 106 points `[x, y]` (with the `landmarks2d106` plugin).
    pub landmarks2d106: Option<Vec<[i64; 2]>>,
    /// Whole milliseconds per plugin, present with `status=true` (core always sends it). The
    /// detector's time is the detection time shared out over the faces found.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub execution_time: Option<BTreeMap<String, u64>>,
}

impl Face {
    /// A face with only its box.
    pub fn from_box(bbox: FaceBox) -> Self {
        Self {
            age: None,
            gender: None,
            pose: None,
            quality: None,
            mask: None,
            embedding: None,
            bbox,
            landmarks: None,
            landmarks2d106: None,
            execution_time: None,
        }
    }
}

/// core-service's answer to `/find_faces`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindFacesResponse {
    pub plugins_versions: BTreeMap<String, String>,
    pub result: Vec<Face>,
}

/// core-service's `/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoreStatus {
    pub status: String,
    pub build_version: String,
    pub calculator_version: String,
    pub similarity_coefficients: [f64; 2],
    pub available_plugins: BTreeMap<String, String>,
    /// What runs the networks (ours; CompreFace has no such field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference: Option<InferenceInfo>,
}

/// The inference backend behind core-service's `/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferenceInfo {
    /// `tract` or `onnxruntime`.
    pub backend: String,
    /// The backend library's version.
    pub version: String,
    /// `cpu` or `cuda`.
    pub device: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_plugins_are_omitted_and_probability_rounded() {
        let face = Face::from_box(FaceBox { probability: 0.9999987654, x_min: 1, y_min: 2, x_max: 30, y_max: 40 });
        assert_eq!(
            serde_json::to_string(&face).unwrap(),
            r#"{"box":{"probability":1.0,"x_min":1,"y_min":2,"x_max":30,"y_max":40}}"#
        );
    }

    #[test]
    fn reads_what_it_writes() {
        let mut face = Face::from_box(FaceBox { probability: 0.5, x_min: 0, y_min: 0, x_max: 9, y_max: 9 });
        face.gender = Some(Gender { probability: 0.87654321, value: "female".into() });
        face.embedding = Some(vec![0.25, -0.5]);
        let text = serde_json::to_string(&face).unwrap();
        let back: Face = serde_json::from_str(&text).unwrap();
        assert_eq!(back.embedding, face.embedding);
        assert_eq!(back.gender.unwrap().probability, 0.87654);
    }

    #[test]
    fn mask_is_written_as_compreface_writes_it() {
        let mut face = Face::from_box(FaceBox { probability: 0.5, x_min: 0, y_min: 0, x_max: 9, y_max: 9 });
        face.mask = Some(Mask { probability: 0.987654321, value: "with_mask".into() });
        let value: serde_json::Value = serde_json::to_value(&face).unwrap();
        assert_eq!(value["mask"], serde_json::json!({"probability": 0.98765, "value": "with_mask"}));
    }
}
