//! The `tfo_frontier` figure: drawn for a study of several decoders, absent otherwise.

use std::fs;

use crate::util::run_ok;

#[test]
fn tfo_study_draws_the_frontier_with_its_pareto_front() {
    let out = run_ok(
        "scenarios/tfo-study.toml",
        &["--set", "sequences=2", "--set", "gen_length=32"],
    );
    let png = image::open(out.path().join("plots/tfo_frontier.png"))
        .expect("tfo_frontier.png decodes")
        .to_rgb8();
    assert_eq!(png.dimensions(), (1600, 1000));
    let background = *png.get_pixel(0, 0);
    let inked = png.pixels().filter(|p| **p != background).count();
    assert!(inked as f64 / 1.6e6 > 0.03, "only {inked} inked pixels");
    let svg = fs::read_to_string(out.path().join("plots/tfo_frontier.svg")).unwrap();
    assert!(svg.contains("Pareto front"), "no front in the legend");
    assert!(
        svg.contains("TPF (tokens / forward pass)"),
        "no x axis title"
    );
    assert!(
        svg.contains("(lower is better)"),
        "the y axis says no direction"
    );
    assert!(svg.contains("LoPA k=4"), "no LoPA point is named");
    let html = fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(html.contains("tfo_frontier") && html.contains("no other configuration beats"));
}

#[test]
fn one_decoder_draws_no_frontier() {
    let out = run_ok("scenarios/quickstart.toml", &["--set", "sequences=2"]);
    assert!(out.path().join("plots/tfo_map.png").exists());
    assert!(!out.path().join("plots/tfo_frontier.png").exists());
    assert!(!out.path().join("plots/tfo_frontier.svg").exists());
}
