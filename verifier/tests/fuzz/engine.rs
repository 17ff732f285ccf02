//! The fuzzing engine: proptest on the stable toolchain (cargo-fuzz needs nightly).
//!
//! Each target has a corpus in `tests/fuzz/corpus/<target>/` (one input per file) and a
//! property that must hold for every input (no panic, no 5xx, no altered receipt
//! accepted). A run first replays the whole corpus, then, for `CONSENT_FUZZ_SECS` seconds
//! (0 by default, so a plain `cargo test` only replays), feeds the property inputs that
//! proptest draws: a corpus entry mutated by a stack of byte-level and dictionary edits
//! (flips, insertions, deletions, duplications, splices with another entry, tokens the
//! parser cares about), or an input from the target's own structured generator.
//! Every batch of cases draws a new random seed. A failing input is shrunk by proptest,
//! printed, and written to `target/fuzz-failures/<target>/` to be added to the corpus.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

/// One edit of an input.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Token(usize, usize),
    Splice(usize, usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(a, b)| Edit::Flip(a, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Edit::Insert(a, b)),
        (any::<usize>(), 1usize..16).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), 1usize..64).prop_map(|(a, n)| Edit::Duplicate(a, n)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, t)| Edit::Token(a, t)),
        (any::<usize>(), any::<usize>(), any::<usize>()).prop_map(|(a, s, b)| Edit::Splice(a, s, b)),
    ]
}

fn apply(mut input: Vec<u8>, edits: &[Edit], corpus: &[Vec<u8>], tokens: &[&[u8]]) -> Vec<u8> {
    for e in edits {
        let len = input.len();
        let at = |p: usize| if len == 0 { 0 } else { p % (len + 1) };
        match *e {
            Edit::Flip(p, x) if len > 0 => input[p % len] ^= x,
            Edit::Insert(p, b) => input.insert(at(p), b),
            Edit::Delete(p, n) if len > 0 => {
                let start = p % len;
                input.drain(start..(start + n).min(len));
            }
            Edit::Duplicate(p, n) if len > 0 => {
                let start = p % len;
                let piece = input[start..(start + n).min(len)].to_vec();
                let to = at(p.rotate_left(7));
                input.splice(to..to, piece);
            }
            Edit::Token(p, t) if !tokens.is_empty() => {
                let to = at(p);
                input.splice(to..to, tokens[t % tokens.len()].iter().copied());
            }
            Edit::Splice(p, s, q) if !corpus.is_empty() => {
                let other = &corpus[s % corpus.len()];
                if !other.is_empty() {
                    let from = q % other.len();
                    let to = at(p);
                    input.truncate(to);
                    input.extend_from_slice(&other[from..]);
                }
            }
            _ => {}
        }
        input.truncate(64 * 1024);
    }
    input
}

/// A fuzz target: its name (the corpus folder), the tokens worth inserting, and a
/// structured generator of its own.
pub struct Target<'a> {
    pub name: &'a str,
    pub tokens: &'a [&'a [u8]],
    pub generate: BoxedStrategy<Vec<u8>>,
}

fn corpus_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/corpus").join(name)
}

/// Every file of a target's corpus.
pub fn corpus(name: &str) -> Vec<Vec<u8>> {
    let dir = corpus_dir(name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no corpus", dir.display());
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

/// Seconds of fuzzing per target (`CONSENT_FUZZ_SECS`, 0 by default: replay only).
pub fn budget() -> Duration {
    let secs = std::env::var("CONSENT_FUZZ_SECS").ok().and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    Duration::from_secs_f64(secs.max(0.0))
}

/// Replays the corpus through `property`, then fuzzes it for [`budget`].
pub fn fuzz(target: Target<'_>, property: impl Fn(&[u8]) -> Result<(), TestCaseError>) {
    fuzz_with_seeds(target, Vec::new(), property)
}

/// As [`fuzz`], with seeds made at run time (signed receipts) beside the corpus files.
pub fn fuzz_with_seeds(target: Target<'_>, made: Vec<Vec<u8>>, property: impl Fn(&[u8]) -> Result<(), TestCaseError>) {
    let mut seeds = corpus(target.name);
    seeds.extend(made);
    for (i, seed) in seeds.iter().enumerate() {
        if let Err(e) = property(seed) {
            panic!("{}: corpus entry {i} fails: {e}", target.name);
        }
    }
    let budget = budget();
    if budget.is_zero() {
        return;
    }
    let started = Instant::now();
    match search(&seeds, target.tokens, target.generate, &property, budget) {
        Ok(cases) => {
            println!("fuzz {}: {cases} inputs in {:.1} s, none failed", target.name, started.elapsed().as_secs_f64())
        }
        Err((why, input)) => {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-failures").join(target.name);
            let _ = std::fs::create_dir_all(&dir);
            let file = dir.join(format!("{:016x}", fxhash(&input)));
            let _ = std::fs::write(&file, &input);
            panic!(
                "fuzz target {} failed: {why}\ninput ({} bytes, saved to {}): {:?}",
                target.name,
                input.len(),
                file.display(),
                String::from_utf8_lossy(&input)
            );
        }
    }
}

/// Feeds `property` mutated seeds and generated inputs for `budget`; the number of
/// inputs, or the failure and its shrunk input.
fn search(
    seeds: &[Vec<u8>],
    tokens: &[&[u8]],
    generate: BoxedStrategy<Vec<u8>>,
    property: &impl Fn(&[u8]) -> Result<(), TestCaseError>,
    budget: Duration,
) -> Result<u64, (String, Vec<u8>)> {
    let mutated = {
        let seeds = seeds.to_vec();
        let tokens: Vec<Vec<u8>> = tokens.iter().map(|t| t.to_vec()).collect();
        (0..seeds.len(), proptest::collection::vec(edit(), 1..8)).prop_map(move |(i, edits)| {
            let tokens: Vec<&[u8]> = tokens.iter().map(Vec::as_slice).collect();
            apply(seeds[i].clone(), &edits, &seeds, &tokens)
        })
    };
    let inputs = prop_oneof![4 => mutated, 1 => generate];
    let started = Instant::now();
    let mut cases = 0u64;
    while started.elapsed() < budget {
        let config = Config { cases: 256, failure_persistence: None, ..Config::default() };
        let result = TestRunner::new(config).run(&inputs, |input| property(&input));
        cases += 256;
        match result {
            Ok(()) => {}
            Err(TestError::Fail(why, input)) => return Err((why.to_string(), input)),
            Err(TestError::Abort(why)) => return Err((why.to_string(), Vec::new())),
        }
    }
    Ok(cases)
}

/// The engine is worth running only if it finds things: a parser that panics on one
/// three-byte word somewhere in its input is caught within a second.
#[test]
fn the_engine_finds_a_planted_bug() {
    let seeds = vec![b"hello world".to_vec(), b"{\"a\": 1}".to_vec()];
    let planted = |input: &[u8]| -> Result<(), TestCaseError> {
        prop_assert!(!input.windows(3).any(|w| w == b"BUG"), "planted bug");
        Ok(())
    };
    let generate = Just(Vec::new()).boxed();
    let found = search(&seeds, &[b"BUG"], generate, &planted, Duration::from_secs(5));
    let (_, input) = found.expect_err("the planted bug was not found");
    assert!(input.windows(3).any(|w| w == b"BUG"));
}

fn fxhash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}
