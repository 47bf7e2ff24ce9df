//! "Did you mean" suggestions: the Levenshtein distance of `strsim`.

/// Largest edit distance still worth suggesting.
const MAX_DISTANCE: usize = 2;

/// Suggests the candidate closest to `word`, if it is close enough.
///
/// Comparison is case-insensitive. A candidate qualifies when its edit
/// distance to `word` is at most 2 (and smaller than the longer of the two,
/// so unrelated short words do not match), or when one is a prefix of the
/// other. The smallest distance wins, then the earliest candidate.
pub fn did_you_mean(word: &str, candidates: &[&str]) -> Option<String> {
    let word_lc = word.to_lowercase();
    if word_lc.is_empty() {
        return None;
    }
    let word_len = word_lc.chars().count();
    let mut best: Option<(usize, &str)> = None;
    for &candidate in candidates {
        let cand_lc = candidate.to_lowercase();
        if cand_lc.is_empty() {
            continue;
        }
        let distance = strsim::levenshtein(&word_lc, &cand_lc);
        let longest = word_len.max(cand_lc.chars().count());
        let close = distance <= MAX_DISTANCE && distance < longest;
        let prefix = cand_lc.starts_with(&word_lc) || word_lc.starts_with(&cand_lc);
        if (close || prefix) && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c.to_owned())
}
