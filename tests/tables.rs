//! Library-level checks against tables produced by the reference
//! environment (tests/oracle/make_cases.py): emoji removal against Python
//! emoji 2.16.0, and the split permutation against numpy.

use std::path::Path;

use sheetsift::dialogue::emoji::remove_emoji;
use sheetsift::dialogue::split::permutation;

fn data(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

#[test]
fn emoji_removal_matches_python_emoji_2_16_0() {
    let mut n = 0;
    for line in data("emoji_cases.tsv")
        .lines()
        .filter(|l| !l.starts_with('#'))
    {
        let (input, want) = line.split_once('\t').unwrap();
        let input: String = serde_json::from_str(input).unwrap();
        let want: String = serde_json::from_str(want).unwrap();
        assert_eq!(
            remove_emoji(&input),
            want,
            "input {input:?} ({:x?})",
            input.chars().map(|c| c as u32).collect::<Vec<_>>()
        );
        n += 1;
    }
    assert!(n >= 200, "only {n} cases");
}

fn fnv1a(p: &[u32]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for v in p {
        for b in v.to_le_bytes() {
            h = (h ^ b as u64).wrapping_mul(0x100000001b3);
        }
    }
    h
}

#[test]
fn permutation_matches_numpy_random_state() {
    let mut n_cases = 0;
    for line in data("permutations.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
    {
        let f: Vec<&str> = line.split(' ').collect();
        let (seed, n): (u32, usize) = (f[0].parse().unwrap(), f[1].parse().unwrap());
        let p = permutation(n, seed);
        let head: Vec<String> = p.iter().take(8).map(|v| v.to_string()).collect();
        let tail: Vec<String> = p[p.len().saturating_sub(8)..]
            .iter()
            .map(|v| v.to_string())
            .collect();
        assert_eq!(head.join(","), f[3], "seed {seed} n {n}: first elements");
        assert_eq!(tail.join(","), f[4], "seed {seed} n {n}: last elements");
        assert_eq!(
            format!("{:016x}", fnv1a(&p)),
            f[2],
            "seed {seed} n {n}: whole permutation"
        );
        n_cases += 1;
    }
    assert!(n_cases >= 50);
}
