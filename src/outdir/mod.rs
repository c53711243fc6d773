//! Output directories you can trust: the pieces that make a directory one
//! run's, and nothing else.
//!
//! A directory written by `extract` (or `run --keep-clean`) is one run:
//! its manifests ([`record`]) list every chunk output with its size and
//! SHA-256 and the fingerprint of the inputs it was made from, so that
//! `--resume` skips a chunk only when it provably is what a fresh run
//! would write, and `dialogues` refuses ([`validate`]) a directory that
//! holds anything else. While a run works, its finished chunks are
//! recorded in a journal ([`journal`]) so a SIGKILL loses at most the chunk
//! being written; a lock per selection ([`lock`]) makes a second identical
//! run refuse instead of racing. Every file is written through a
//! [`temp::SafeTemp`]: a unique name created with `O_EXCL`, never followed
//! through a symlink, renamed into place. [`exclude`] keeps a run's inputs
//! free of anything sheetsift wrote, [`resume`] decides what `--resume`
//! skips and what a rerun removes, and [`preflight`] checks up front what
//! can be checked before any file is read or directory created.
//!
//! Nothing here prints: callers turn the typed results into notes and
//! errors.

pub mod exclude;
pub mod journal;
pub mod lock;
pub mod preflight;
pub mod record;
pub mod resume;
pub mod temp;
pub mod validate;

/// Whether a file name is a chunk output of `prefix`: `PREFIX_A_B.xlsx` or
/// `PREFIX_A_B.csv` with A <= B decimal file numbers (SPEC stage 1, 5).
pub fn is_chunk_name(name: &str, prefix: &str) -> bool {
    let Some(rest) = name.strip_prefix(prefix).and_then(|r| r.strip_prefix('_')) else {
        return false;
    };
    let Some(stem) = rest
        .strip_suffix(".xlsx")
        .or_else(|| rest.strip_suffix(".csv"))
    else {
        return false;
    };
    let Some((a, b)) = stem.split_once('_') else {
        return false;
    };
    let number = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if !(number(a) && number(b)) {
        return false;
    }
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(a), Ok(b)) => a <= b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_names() {
        assert!(is_chunk_name("clean_data_0_5.xlsx", "clean_data"));
        assert!(is_chunk_name("clean_data_100_124.csv", "clean_data"));
        assert!(is_chunk_name("part_3_3.xlsx", "part"));
        assert!(!is_chunk_name("clean_data_5_0.xlsx", "clean_data"));
        assert!(!is_chunk_name("clean_data_0_5.xls", "clean_data"));
        assert!(!is_chunk_name("clean_data_0.xlsx", "clean_data"));
        assert!(!is_chunk_name("clean_data_a_5.xlsx", "clean_data"));
        assert!(!is_chunk_name("clean_data__5.xlsx", "clean_data"));
        assert!(!is_chunk_name("chat_0001.xlsx", "clean_data"));
        assert!(!is_chunk_name("clean_data_0_5.xlsx", "part"));
    }
}
