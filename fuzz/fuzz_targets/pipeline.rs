//! The whole pipeline (read → parse → plan → apply → verify) on arbitrary
//! bytes. Bad input must be an error, never a panic; a verification failure
//! (the edited text does not mean the plan) is a harden bug and crashes the
//! fuzzer; a successful run must be idempotent, and the streaming path
//! must write what the whole-stream path writes. Wherever the fast YAML
//! reader answers (on the input and on the output), it must give exactly
//! the full reader's tree.
#![no_main]

use harden::pipeline::{Error, Input, Options, harden_stream, stream};
use harden::plan::PlanOptions;
use harden::profile::Profile;
use harden::pss::Version;
use harden::read::{Source, decode};
use harden::workload::built_in_kinds;
use harden::yaml::Limits;
use harden::yaml::fast;
use harden::yaml::parse::parse_stream_full;

fn readers_agree(text: &str) {
    let limits = Limits::default();
    if let Some(docs) = fast::parse(text, &limits) {
        assert_eq!(Ok(docs), parse_stream_full(text, &limits), "the fast reader disagrees with the full reader");
    }
}
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = decode("fuzz", data.to_vec()) else { return };
    readers_agree(&text);
    let profile = Profile::load("restricted").expect("built-in profile");
    let kinds = built_in_kinds();
    let opts = Options {
        plan: PlanOptions {
            profile: &profile,
            kinds: &kinds,
            version: Version::LATEST,
            partial: false,
            exceptions: &[],
            images: harden::images::built_in_table(),
        },
        ports: None,
        limits: Limits { max_alias_nodes: 10_000, ..Limits::default() },
    };
    let run = |text: String| harden_stream(&[Source { name: "fuzz".into(), path: None, text }], &opts);
    // The streaming path (plain YAML output) must write exactly the same.
    let streamed = |text: String| {
        let mut out = String::new();
        let input = [Input::Text(Source { name: "fuzz".into(), path: None, text })];
        stream(&input, &opts, &[], |_, chunk| -> Result<(), Error> {
            out.push_str(&chunk.output);
            Ok(())
        })
        .map(|()| out)
    };
    match run(text.clone()) {
        Ok(mut out) => {
            let first = out.remove(0).output;
            readers_agree(&first);
            assert_eq!(streamed(text).expect("streaming accepts what the whole-stream path accepts"), first);
            let second = run(first.clone()).expect("hardened output must harden again").remove(0).output;
            assert_eq!(first, second, "a second run changed the output");
        }
        Err(Error::Parse { .. } | Error::Read(_) | Error::NoManifests { .. }) => {}
        Err(e @ Error::Verify(_)) => panic!("{e}"),
    }
});
