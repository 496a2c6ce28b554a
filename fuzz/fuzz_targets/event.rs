#![no_main]
// See steward_core::fuzzing::event for what is fed and what must hold.
libfuzzer_sys::fuzz_target!(|data: &[u8]| steward_core::fuzzing::event(data));
