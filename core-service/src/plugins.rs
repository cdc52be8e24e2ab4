//! The face plugins a request can ask for with `face_plugins`, and the models behind them.

use visage_inference::engine::{DetectorKind, Engine};

/// An optional per-face computation. The detector always runs and is not listed here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Plugin {
    /// The embedding (`calculator`).
    Calculator,
    Age,
    Gender,
    /// The detector's five landmarks.
    Landmarks,
    Landmarks2d106,
    Pose,
    /// How usable the face is for recognition (no model of its own).
    Quality,
    /// Whether the face wears a mask (offered only when its model file is there).
    Mask,
}

impl Plugin {
    pub const ALL: [Plugin; 8] = [
        Plugin::Calculator,
        Plugin::Age,
        Plugin::Gender,
        Plugin::Landmarks,
        Plugin::Landmarks2d106,
        Plugin::Pose,
        Plugin::Quality,
        Plugin::Mask,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Plugin::Calculator => "calculator",
            Plugin::Age => "age",
            Plugin::Gender => "gender",
            Plugin::Landmarks => "landmarks",
            Plugin::Landmarks2d106 => "landmarks2d106",
            Plugin::Pose => "pose",
            Plugin::Quality => "quality",
            Plugin::Mask => "mask",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.slug().eq_ignore_ascii_case(slug.trim()))
    }

    /// CompreFace's plugin class names (`insightface.Calculator`, `facenet.LandmarksDetector`…).
    pub fn from_alias(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "calculator" => Some(Plugin::Calculator),
            "agedetector" => Some(Plugin::Age),
            "genderdetector" => Some(Plugin::Gender),
            "landmarksdetector" => Some(Plugin::Landmarks),
            "landmarks2d106detector" => Some(Plugin::Landmarks2d106),
            "posedetector" | "poseestimator" => Some(Plugin::Pose),
            "maskdetector" => Some(Plugin::Mask),
            other => Self::from_slug(other),
        }
    }
}

/// A small set of plugins.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PluginSet(u8);

impl PluginSet {
    /// Every plugin.
    pub fn all_optional() -> Self {
        let mut set = Self::default();
        for p in Plugin::ALL {
            set.insert(p);
        }
        set
    }

    pub fn insert(&mut self, p: Plugin) {
        self.0 |= 1 << p as u8;
    }

    pub fn remove(&mut self, p: Plugin) {
        self.0 &= !(1 << p as u8);
    }

    pub fn contains(&self, p: Plugin) -> bool {
        self.0 & (1 << p as u8) != 0
    }

    pub fn iter(&self) -> impl Iterator<Item = Plugin> + '_ {
        Plugin::ALL.into_iter().filter(|p| self.contains(*p))
    }

    /// Parses a `face_plugins` value: comma-separated slugs, unknown ones ignored.
    pub fn parse_request(value: &str) -> Self {
        let mut set = Self::default();
        for p in value.split(',').filter_map(Plugin::from_slug) {
            set.insert(p);
        }
        set
    }

    /// Only the plugins present in both sets.
    pub fn intersect(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }
}

impl PluginSet {
    /// The plugins an instance configured with `wanted` offers: the calculator always among them,
    /// the mask only when its model is loaded.
    pub fn offered(wanted: PluginSet, engine: &Engine) -> Self {
        let mut set = wanted;
        set.insert(Plugin::Calculator);
        if engine.mask().is_none() {
            set.remove(Plugin::Mask);
        }
        set
    }
}

/// The name reported for a plugin in `plugins_versions` and `/status` `available_plugins`:
/// `<family>.<Plugin>@<model>`, in the style of CompreFace's own names.
pub fn plugin_version(engine: &Engine, plugin: Plugin) -> &'static str {
    match plugin {
        Plugin::Calculator => engine.calculator_version(),
        Plugin::Age => "agegender.AgeDetector@age-v1",
        Plugin::Gender => "agegender.GenderDetector@gender-v1",
        Plugin::Landmarks => match engine.config().detector {
            DetectorKind::Scrfd => "insightface.LandmarksDetector@scrfd_500m_bnkps",
            DetectorKind::RetinaFace => "retinaface.LandmarksDetector@mnet025",
        },
        Plugin::Landmarks2d106 => "insightface.Landmarks2d106Detector@2d106det",
        Plugin::Pose => "visage.PoseEstimator",
        Plugin::Quality => "visage.QualityAssessor",
        Plugin::Mask => "facemask.MaskDetector@face_mask_detector",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_parsing_ignores_unknown_slugs_and_case() {
        let set = PluginSet::parse_request("Age, gender,MASK,,calculator,nonsense");
        let got: Vec<_> = set.iter().map(Plugin::slug).collect();
        assert_eq!(got, ["calculator", "age", "gender", "mask"]);
        assert!(PluginSet::parse_request("").iter().next().is_none());
    }

    #[test]
    fn compreface_plugin_names_are_understood() {
        assert_eq!(Plugin::from_alias("AgeDetector"), Some(Plugin::Age));
        assert_eq!(Plugin::from_alias("Calculator"), Some(Plugin::Calculator));
        assert_eq!(Plugin::from_alias("MaskDetector"), Some(Plugin::Mask));
        assert_eq!(Plugin::from_alias("FaceDetector"), None);
    }

    #[test]
    fn every_plugin_fits_the_set_and_can_be_removed() {
        let mut set = PluginSet::all_optional();
        assert_eq!(set.iter().count(), Plugin::ALL.len());
        set.remove(Plugin::Mask);
        assert!(!set.contains(Plugin::Mask) && set.contains(Plugin::Quality));
        assert_eq!(set.iter().count(), Plugin::ALL.len() - 1);
    }
}
