//! The tract backend: `tract-onnx`, pure Rust.
//!
//! tract optimises a plan for one concrete input shape and runs it about three times faster than
//! a plan with symbolic dimensions, so a session here serves exactly the shape it was loaded for.
//! Plans are immutable and shared by every thread.
//!
//! Before tract reads a model, two rewrites of the ONNX graph take it round tract's slow spots
//! (docs/benchmarks.md, "tract, per operator"): PReLU activations become `max(x, slope·x)` where
//! that is exact ([`prelu_as_max`]); tract lowered PReLU into three unfused passes, 38 % of
//! w600k_mbf's time. Grouped convolutions with a few channels per group become a sum of
//! depthwise convolutions ([`grouped_as_depthwise`]); tract ran w600k_mbf's one such
//! convolution as a thin matrix product, a fifth of the network's time.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use tract_onnx::pb::{ModelProto, NodeProto, TensorProto};
use tract_onnx::prelude::*;

use super::{Session, Tensor as Dense};
use crate::model::ModelError;

/// The tract version this build runs (the `tract-onnx` dependency's).
pub const VERSION: &str = "0.23";

/// tract with an optional pool of threads for one inference's matrix products
/// (`multithread-mm`).
pub struct TractBackend {
    pool: Option<tract_onnx::prelude::tract_linalg::multithread::Executor>,
}

impl TractBackend {
    /// A backend whose [`install_parallel`](Self::install_parallel) spreads matrix products over
    /// `threads` threads (none below two, where a pool would only add overhead).
    pub fn new(threads: usize) -> Self {
        use tract_onnx::prelude::tract_linalg::multithread::Executor;
        Self { pool: (threads > 1).then(|| Executor::multithread_with_name(threads, "tract")) }
    }

    /// Loads `path` and optimises it for an `f32` input of exactly `input_shape`. The graph's
    /// `value_info` entries are ignored: some exporters record a symbolic batch dimension there
    /// that clashes with the concrete input fact.
    pub fn load(&self, path: &Path, input_shape: &[usize]) -> Result<Arc<dyn Session>, ModelError> {
        let load = || -> TractResult<Arc<TypedRunnableModel>> {
            let onnx = tract_onnx::onnx().with_ignore_value_info(true);
            let mut proto = onnx.proto_model_for_path(path)?;
            prelu_as_max(&mut proto);
            grouped_as_depthwise(&mut proto);
            onnx.model_for_proto_model(&proto)?
                .with_input_fact(0, f32::fact(input_shape).into())?
                .into_optimized()?
                .into_runnable()
        };
        let plan = load().map_err(|e| ModelError::Load { path: path.to_path_buf(), message: format!("{e:#}") })?;
        Ok(Arc::new(TractSession { plan, shape: input_shape.to_vec() }))
    }

    /// Runs `f` with the matrix products of the inferences it runs spread over the pool. Other
    /// threads are not affected.
    pub fn install_parallel<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.pool {
            Some(pool) => tract_onnx::prelude::tract_linalg::multithread::multithread_tract_scope(pool.clone(), f),
            None => f(),
        }
    }
}

/// Replaces each `PRelu(x, slope)` whose slope is a constant of values at most 1 with
/// `Max(x, Mul(x, slope))`; answers how many. The two are equal for such slopes, negative ones
/// included (x ≥ 0: slope·x ≤ x; x < 0: slope·x ≥ x), and bit for bit, since the product is the
/// same multiplication. tract runs the pair as two element-wise passes, where its PReLU is a
/// comparison, a multiplication and a selection; a per-channel slope cannot be fused into the
/// convolution before it either way. w600k_mbf's 34 slopes lie in [−0.84, 0.95], those of the
/// 106-point model's 28 below 0.001.
pub fn prelu_as_max(proto: &mut ModelProto) -> usize {
    let Some(graph) = proto.graph.as_mut() else { return 0 };
    let slopes: HashSet<String> = graph
        .initializer
        .iter()
        .filter(|t| float_values(t).is_some_and(|v| !v.is_empty() && v.iter().all(|&a| a <= 1.0)))
        .map(|t| t.name.clone())
        .collect();
    let mut rewritten = 0;
    let mut nodes = Vec::with_capacity(graph.node.len() + 64);
    for node in std::mem::take(&mut graph.node) {
        let exact = node.op_type == "PRelu"
            && node.domain.is_empty()
            && node.input.len() == 2
            && node.output.len() == 1
            && slopes.contains(&node.input[1]);
        if !exact {
            nodes.push(node);
            continue;
        }
        let scaled = format!("{}.slope_times_x", node.output[0]);
        nodes.push(NodeProto {
            name: format!("{}.mul", node.name),
            op_type: "Mul".into(),
            input: node.input.clone(),
            output: vec![scaled.clone()],
            ..NodeProto::default()
        });
        nodes.push(NodeProto {
            name: format!("{}.max", node.name),
            op_type: "Max".into(),
            input: vec![node.input[0].clone(), scaled],
            output: node.output.clone(),
            ..NodeProto::default()
        });
        rewritten += 1;
    }
    graph.node = nodes;
    rewritten
}

/// The most input channels per group [`grouped_as_depthwise`] rewrites (each costs a depthwise
/// convolution and a channel shuffle).
const MAX_CHANNELS_PER_GROUP: usize = 4;

/// Replaces each 2-D `Conv` with `groups` groups of `k` input and `k` output channels
/// (1 < k ≤ [`MAX_CHANNELS_PER_GROUP`], constant weights) with the sum of `k` depthwise
/// convolutions: the `s`-th reads the input with the channels of each group rotated by `s`
/// (`Gather` on the channel axis) and weighs output channel `c` with the weight that the grouped
/// convolution gives input channel `group(c)·k + (c + s) mod k`. The sum is the same products
/// added in another order (float results within rounding). Answers how many were rewritten.
pub fn grouped_as_depthwise(proto: &mut ModelProto) -> usize {
    let Some(graph) = proto.graph.as_mut() else { return 0 };
    let mut rewritten = 0;
    let mut nodes = Vec::with_capacity(graph.node.len());
    for node in std::mem::take(&mut graph.node) {
        let int_attr = |name: &str| node.attribute.iter().find(|a| a.name == name).map(|a| a.i);
        let groups = int_attr("group").unwrap_or(1);
        let weight = (node.op_type == "Conv" && node.domain.is_empty() && groups > 1 && node.input.len() >= 2)
            .then(|| graph.initializer.iter().find(|t| t.name == node.input[1]))
            .flatten()
            .filter(|w| w.dims.len() == 4)
            .and_then(|w| Some((w.dims.clone(), float_values(w)?)));
        let Some((dims, values)) = weight else {
            nodes.push(node);
            continue;
        };
        let (channels, k) = (dims[0] as usize, dims[1] as usize);
        let per_kernel = (dims[2] * dims[3]) as usize;
        if !(2..=MAX_CHANNELS_PER_GROUP).contains(&k)
            || channels != groups as usize * k
            || values.len() != channels * k * per_kernel
        {
            nodes.push(node);
            continue;
        }
        let mut sums = Vec::with_capacity(k);
        for shift in 0..k {
            let source = |c: usize| c / k * k + (c % k + shift) % k;
            let input = if shift == 0 {
                node.input[0].clone()
            } else {
                let indices = format!("{}.rotate{shift}.indices", node.name);
                graph.initializer.push(TensorProto {
                    name: indices.clone(),
                    data_type: 7, // INT64
                    dims: vec![channels as i64],
                    int64_data: (0..channels).map(|c| source(c) as i64).collect(),
                    ..TensorProto::default()
                });
                let rotated = format!("{}.rotate{shift}", node.name);
                nodes.push(NodeProto {
                    name: rotated.clone(),
                    op_type: "Gather".into(),
                    input: vec![node.input[0].clone(), indices],
                    output: vec![rotated.clone()],
                    attribute: vec![int_attribute("axis", 1)],
                    ..NodeProto::default()
                });
                rotated
            };
            let weights = format!("{}.depthwise{shift}.weight", node.name);
            let picked: Vec<f32> = (0..channels)
                .flat_map(|c| {
                    let i = (c % k + shift) % k;
                    values[(c * k + i) * per_kernel..(c * k + i + 1) * per_kernel].iter().copied()
                })
                .collect();
            graph.initializer.push(TensorProto {
                name: weights.clone(),
                data_type: 1, // FLOAT
                dims: vec![channels as i64, 1, dims[2], dims[3]],
                float_data: picked,
                ..TensorProto::default()
            });
            let mut inputs = vec![input, weights];
            if shift == 0 {
                inputs.extend(node.input.get(2).cloned());
            }
            let output = format!("{}.depthwise{shift}", node.name);
            let mut attribute: Vec<_> = node.attribute.iter().filter(|a| a.name != "group").cloned().collect();
            attribute.push(int_attribute("group", channels as i64));
            nodes.push(NodeProto {
                name: output.clone(),
                op_type: "Conv".into(),
                input: inputs,
                output: vec![output.clone()],
                attribute,
                ..NodeProto::default()
            });
            sums.push(output);
        }
        nodes.push(NodeProto {
            name: format!("{}.sum", node.name),
            op_type: "Sum".into(),
            input: sums,
            output: node.output.clone(),
            ..NodeProto::default()
        });
        rewritten += 1;
    }
    graph.node = nodes;
    rewritten
}

fn int_attribute(name: &str, value: i64) -> tract_onnx::pb::AttributeProto {
    tract_onnx::pb::AttributeProto {
        name: name.into(),
        r#type: 2, // INT
        i: value,
        ..Default::default()
    }
}

/// The values of a 32-bit float tensor stored in the model, if it is one.
fn float_values(tensor: &TensorProto) -> Option<Vec<f32>> {
    const FLOAT: i32 = 1;
    if tensor.data_type != FLOAT || tensor.data_location.unwrap_or(0) != 0 {
        return None;
    }
    if !tensor.float_data.is_empty() {
        return Some(tensor.float_data.clone());
    }
    let raw: &[u8] = &tensor.raw_data;
    raw.len()
        .is_multiple_of(4)
        .then(|| raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}

struct TractSession {
    plan: Arc<TypedRunnableModel>,
    shape: Vec<usize>,
}

impl Session for TractSession {
    fn run(&self, input: Dense) -> Result<Vec<Dense>, ModelError> {
        if input.shape() != self.shape {
            return Err(ModelError::InvalidInput(format!(
                "this model was prepared for input {:?}, got {:?}",
                self.shape,
                input.shape()
            )));
        }
        let shape = input.shape().to_vec();
        let array = tract_ndarray::ArrayD::from_shape_vec(shape, input.into_data())
            .map_err(|e| ModelError::InvalidInput(e.to_string()))?;
        let outputs =
            self.plan.run(tvec!(Tensor::from(array).into())).map_err(|e| ModelError::Run(format!("{e:#}")))?;
        outputs
            .iter()
            .map(|value| {
                let data = value
                    .try_as_plain_ram()
                    .and_then(|view| view.as_slice::<f32>())
                    .map_err(|e| ModelError::Run(format!("reading a model output: {e:#}")))?;
                Dense::new(value.shape().to_vec(), data.to_vec())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models").join(name)
    }

    /// The embedder rewritten answers what it answers as it is: PReLU exactly, the grouped
    /// convolution within float rounding.
    #[test]
    fn the_rewrites_keep_the_embedders_answers() {
        let onnx = tract_onnx::onnx().with_ignore_value_info(true);
        let run = |rewrite: bool| -> Vec<f32> {
            let mut proto = onnx.proto_model_for_path(model("w600k_mbf.onnx")).unwrap();
            if rewrite {
                assert_eq!(prelu_as_max(&mut proto), 34);
                assert!(proto.graph.as_ref().unwrap().node.iter().all(|n| n.op_type != "PRelu"));
                assert_eq!(grouped_as_depthwise(&mut proto), 1, "Conv_2: 64 groups of 2 channels");
            }
            let plan = onnx
                .model_for_proto_model(&proto)
                .unwrap()
                .with_input_fact(0, f32::fact([1, 3, 112, 112]).into())
                .unwrap()
                .into_optimized()
                .unwrap()
                .into_runnable()
                .unwrap();
            // A fixed, face-sized pattern in the network's input range.
            let input: Vec<f32> = (0..3 * 112 * 112).map(|i| ((i * 7919 % 256) as f32 - 127.5) / 127.5).collect();
            let input = tract_ndarray::ArrayD::from_shape_vec(vec![1, 3, 112, 112], input).unwrap();
            let out = plan.run(tvec!(Tensor::from(input).into())).unwrap();
            out[0].try_as_plain_ram().unwrap().as_slice::<f32>().unwrap().to_vec()
        };
        let (plain, rewritten) = (run(false), run(true));
        assert_eq!(plain.len(), 512);
        let worst = plain.iter().zip(&rewritten).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst <= 1e-5, "largest difference {worst}");
    }

    #[test]
    fn only_slopes_up_to_one_are_rewritten() {
        let slope = |name: &str, values: &[f32]| TensorProto {
            name: name.into(),
            data_type: 1,
            dims: vec![values.len() as i64],
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..TensorProto::default()
        };
        let prelu = |x: &str, a: &str, y: &str| NodeProto {
            op_type: "PRelu".into(),
            input: vec![x.into(), a.into()],
            output: vec![y.into()],
            ..NodeProto::default()
        };
        let mut proto = ModelProto {
            graph: Some(tract_onnx::pb::GraphProto {
                initializer: vec![slope("a", &[0.25, -0.5, 1.0]), slope("b", &[0.5, 1.5])],
                node: vec![prelu("x", "a", "y"), prelu("y", "b", "z"), prelu("z", "missing", "w")],
                ..Default::default()
            }),
            ..ModelProto::default()
        };
        assert_eq!(prelu_as_max(&mut proto), 1);
        let ops: Vec<(&str, Vec<&str>, Vec<&str>)> = proto
            .graph
            .as_ref()
            .unwrap()
            .node
            .iter()
            .map(|n| {
                (
                    n.op_type.as_str(),
                    n.input.iter().map(String::as_str).collect(),
                    n.output.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            ops,
            [
                ("Mul", vec!["x", "a"], vec!["y.slope_times_x"]),
                ("Max", vec!["x", "y.slope_times_x"], vec!["y"]),
                ("PRelu", vec!["y", "b"], vec!["z"]),
                ("PRelu", vec!["z", "missing"], vec!["w"]),
            ]
        );
    }
}
