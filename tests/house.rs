//! The house stays as docs/architecture.md draws it: `tools/house.py` reads steward-core's own
//! imports, and no change may bring back a circle, an arrow that runs back up, or a domain that
//! knows its adapters or the HTTP edge.

#[test]
fn given_the_core_crate_then_the_domain_owns_its_ports_and_no_import_runs_back() {
    let output = std::process::Command::new(steward_blackbox::python())
        .arg(steward_blackbox::root().join("tools/house.py"))
        .arg("--json")
        .output()
        .expect("the project's Python runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let house: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(house["circles"], 0, "circles: {}", house["circle_list"]);
    assert_eq!(house["back_arrows"], 0, "back arrows: {}", house["back_arrow_list"]);
    let outward: Vec<String> = house["arrow_list"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|arrow| Some((arrow[0].as_str()?, arrow[1].as_str()?)))
        .filter(|(from, to)| {
            from.starts_with("domain/")
                && ["adapters/", "http/", "lambda", "telemetry"].iter().any(|edge| to.starts_with(edge))
        })
        .map(|(from, to)| format!("{from} -> {to}"))
        .collect();
    assert!(outward.is_empty(), "the domain imports its adapters or the edge: {outward:?}");
}
