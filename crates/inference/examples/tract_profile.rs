//! Per-operator profile of a model under tract: loads it as the tract backend does (optimised
//! for one input shape), runs it on random input, times every node of the plan, and prints the
//! time by operator kind, largest first, and the ten slowest nodes. One thread.
//!
//! ```sh
//! cargo run --release -p visage-inference --example tract_profile -- models/w600k_mbf.onnx 1,3,112,112
//! cargo run --release -p visage-inference --example tract_profile -- models/scrfd_500m_bnkps.onnx 1,3,640,640
//! ```
//!
//! Options after the shape: the number of timed runs (default 20, after 3 untimed ones);
//! `--plain` profiles the model without the backend's graph rewrites
//! (`visage_inference::backend::tract::{prelu_as_max, grouped_as_depthwise}`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tract_onnx::prelude::*;

fn main() -> TractResult<()> {
    let (flags, args): (Vec<String>, Vec<String>) = std::env::args().skip(1).partition(|a| a.starts_with("--"));
    let rewrite = !flags.iter().any(|f| f == "--plain");
    let (Some(path), Some(shape)) = (args.first(), args.get(1)) else {
        eprintln!("usage: tract_profile MODEL.onnx N,C,H,W [RUNS]");
        std::process::exit(2);
    };
    let shape: Vec<usize> = shape.split(',').map(|d| d.trim().parse()).collect::<Result<_, _>>()?;
    let runs: usize = args.get(2).map(|r| r.parse()).transpose()?.unwrap_or(20);

    let onnx = tract_onnx::onnx().with_ignore_value_info(true);
    let mut proto = onnx.proto_model_for_path(path)?;
    if rewrite {
        use visage_inference::backend::tract::{grouped_as_depthwise, prelu_as_max};
        eprintln!("{} PReLU rewritten as max(x, slope·x)", prelu_as_max(&mut proto));
        eprintln!("{} grouped convolutions rewritten as depthwise ones", grouped_as_depthwise(&mut proto));
    }
    let plan = onnx
        .model_for_proto_model(&proto)?
        .with_input_fact(0, f32::fact(&shape).into())?
        .into_optimized()?
        .into_runnable()?;
    let len: usize = shape.iter().product();
    let data: Vec<f32> = (0..len).map(|i| ((i * 7919) % 255) as f32 / 127.5 - 1.0).collect();
    let input: TValue = Tensor::from(tract_ndarray::ArrayD::from_shape_vec(shape.clone(), data)?).into();

    let mut by_node: HashMap<usize, Duration> = HashMap::new();
    let mut total = Duration::ZERO;
    for run in 0..runs + 3 {
        let mut state = tract_onnx::tract_core::plan::SimpleState::new(&plan)?;
        let started = Instant::now();
        let mut times: Vec<(usize, Duration)> = Vec::new();
        state.run_plan_with_eval(tvec!(input.clone()), |ctx, op_state, node, inputs| {
            let t = Instant::now();
            let out = tract_onnx::tract_core::plan::eval(ctx, op_state, node, inputs);
            times.push((node.id, t.elapsed()));
            out
        })?;
        if run >= 3 {
            total += started.elapsed();
            for (id, t) in times {
                *by_node.entry(id).or_default() += t;
            }
        }
    }

    let model = plan.model();
    let mut by_op: HashMap<String, (Duration, usize)> = HashMap::new();
    for (id, t) in &by_node {
        let entry = by_op.entry(model.node(*id).op().name().to_string()).or_default();
        entry.0 += *t;
        entry.1 += 1;
    }
    let per_run = |d: Duration| d.as_secs_f64() * 1e3 / runs as f64;
    let measured: Duration = by_node.values().sum();
    println!(
        "{path} {shape:?}: {:.2} ms per run ({:.2} ms inside nodes), {runs} runs",
        per_run(total),
        per_run(measured)
    );
    let mut ops: Vec<_> = by_op.into_iter().collect();
    ops.sort_by_key(|op| std::cmp::Reverse(op.1 .0));
    println!("{:<28} {:>9} {:>6} {:>6}", "operator", "ms/run", "share", "nodes");
    for (op, (t, nodes)) in &ops {
        println!("{op:<28} {:>9.3} {:>5.1}% {nodes:>6}", per_run(*t), 100.0 * t.as_secs_f64() / measured.as_secs_f64());
    }
    let mut nodes: Vec<_> = by_node.into_iter().collect();
    nodes.sort_by_key(|node| std::cmp::Reverse(node.1));
    println!("slowest nodes:");
    for (id, t) in nodes.iter().take(10) {
        let node = model.node(*id);
        let facts = model.node_output_facts(*id)?;
        let out = facts.first().map(|f| format!("{:?}", f.shape)).unwrap_or_default();
        println!("  {:>8.3} ms  {} {} -> {out}", per_run(*t), node.op().name(), node.name);
    }
    Ok(())
}
