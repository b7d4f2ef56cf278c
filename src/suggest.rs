//! "Did you mean …?" for misspelt names.

/// The longest word suggestions are looked for.
const MAX_WORD: usize = 256;

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let length = word.chars().count();
    // Nobody misspells a name this long; and the distance costs length × length.
    if length > MAX_WORD {
        return None;
    }
    let limit = (length / 3).max(1);
    candidates
        .into_iter()
        // The distance is at least the difference in length: skip what cannot be close.
        .filter(|c| c.chars().count().abs_diff(length) <= limit)
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance counting a swap of two neighbours as one edit (the commonest typo),
/// case-insensitive so `Stage` finds `stage`.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i * width + j] = if i == 0 || j == 0 {
                i + j
            } else {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut best = (d[(i - 1) * width + j] + 1)
                    .min(d[i * width + j - 1] + 1)
                    .min(d[(i - 1) * width + j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    best = best.min(d[(i - 2) * width + j - 2] + 1);
                }
                best
            };
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested_and_far_ones_are_not() {
        let nodes = ["stage", "group", "vars", "playbook"];
        assert_eq!(did_you_mean("stgae", nodes), Some("stage"));
        assert_eq!(did_you_mean("Group", nodes), Some("group"));
        assert_eq!(did_you_mean("var", nodes), Some("vars"));
        assert_eq!(did_you_mean("deploy", nodes), None);
    }

    #[test]
    fn long_words_cost_nothing() {
        // Regression (found by the fuzzer): a 262 KB selector word took seconds, its edit
        // distance to every host and group computed in full.
        let long = "ag:prod".repeat(40_000);
        let hosts: Vec<String> = (0..100)
            .map(|i| format!("host-{i}-{}", "x".repeat(40)))
            .collect();
        let started = std::time::Instant::now();
        assert_eq!(did_you_mean(&long, hosts.iter().map(String::as_str)), None);
        assert_eq!(did_you_mean("web-1x", ["web-1", &long]), Some("web-1"));
        assert!(started.elapsed() < std::time::Duration::from_millis(200));
    }
}
