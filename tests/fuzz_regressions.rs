//! Every input a fuzz target ever crashed on (`fuzz/regressions/<target>/`, kept by `make fuzz`)
//! and the seed corpus (`fuzz/seeds/<target>/`), replayed through the same entry points as
//! ordinary tests, so a fixed crash stays fixed without the fuzzing toolchain.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let root = steward_blackbox::root().join("fuzz");
    let mut replayed = 0;
    for dir in ["regressions", "seeds"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
                continue;
            }
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target} panics on {}", relative(&path, &root));
            replayed += 1;
        }
    }
    assert!(replayed > 0, "{target} has no seeds");
}

fn relative(path: &Path, root: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

#[test]
fn body_decoding_survives_every_kept_input() {
    replay("body", steward_core::fuzzing::body);
}

#[test]
fn base64_bodies_survive_every_kept_input() {
    replay("base64_event", steward_core::fuzzing::base64_event);
}

#[test]
fn form_validation_survives_every_kept_input() {
    replay("form", steward_core::fuzzing::form);
}

#[test]
fn token_parsing_survives_every_kept_input() {
    replay("token", steward_core::fuzzing::token);
}

#[test]
fn stripe_signature_parsing_survives_every_kept_input() {
    replay("stripe_signature", steward_core::fuzzing::stripe_signature);
}

#[test]
fn event_conversion_survives_every_kept_input() {
    replay("event", steward_core::fuzzing::event);
}
