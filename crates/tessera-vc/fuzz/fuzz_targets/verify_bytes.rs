//! Arbitrary bytes into `verify_bytes`: it must return (a verdict or an error), never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default();
    let options = tessera_vc::VerifyOptions::new(now);
    let _ = tessera_vc::verify_bytes(data, &options);
});
