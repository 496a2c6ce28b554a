//! `docs/policy-trace.md` names, beside each promise of the privacy policy, the tests that show it
//! is kept. A test renamed or removed must not leave a promise pointing at nothing.

use std::collections::BTreeSet;
use std::path::Path;

/// Test names from the last column of the trace's table.
fn listed_tests(trace: &str) -> Vec<(String, String)> {
    trace
        .lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| #") && !line.starts_with("|---"))
        .flat_map(|row| {
            let cells: Vec<&str> = row.trim_matches('|').split(" | ").collect();
            let promise = cells.first().map(|c| c.trim().to_owned()).unwrap_or_default();
            let tests = cells.last().copied().unwrap_or_default();
            tests
                .split('`')
                .skip(1)
                .step_by(2)
                .map(move |name| (promise.clone(), name.to_owned()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every `fn` name in the workspace's Rust sources.
fn defined_functions(dir: &Path, names: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let skip = path.file_name().is_some_and(|n| n == "target" || n.to_string_lossy().starts_with('.'));
        if path.is_dir() && !skip {
            defined_functions(&path, names);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let source = std::fs::read_to_string(&path).unwrap();
            for rest in source.split("fn ").skip(1) {
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                names.insert(name);
            }
        }
    }
}

#[test]
fn every_promise_of_the_policy_names_tests_that_exist() {
    let root = steward_blackbox::root();
    let trace = std::fs::read_to_string(root.join("docs/policy-trace.md")).unwrap();
    let listed = listed_tests(&trace);
    assert!(listed.len() > 40, "the trace lists its tests");
    let promises: BTreeSet<&str> = listed.iter().map(|(promise, _)| promise.as_str()).collect();
    assert!(promises.len() >= 26, "every promise has at least one test");
    let mut defined = BTreeSet::new();
    for dir in ["crates", "functions", "tests"] {
        defined_functions(&root.join(dir), &mut defined);
    }
    let missing: Vec<_> = listed.iter().filter(|(_, name)| !defined.contains(name)).collect();
    assert!(missing.is_empty(), "promises pointing at tests that no longer exist: {missing:?}");
}
