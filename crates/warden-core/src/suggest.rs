//! "Did you mean …": the known name closest to one that was not found, so that a typo in an
//! action, a role, a group, a namespace or a key is answered with the name the caller meant.

/// The candidate closest to `wanted` by edit distance (ignoring ASCII case), if it is close
/// enough to be a plausible typo: at most a quarter of the name's length, and at most 2 edits.
/// Ties go to the first candidate.
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let wanted: Vec<char> = wanted
        .chars()
        .take(crate::validate::MAX_NAME)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if wanted.is_empty() {
        return None;
    }
    let limit = (wanted.len() / 4).clamp(1, 2);
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let lowered: Vec<char> = candidate.chars().map(|c| c.to_ascii_lowercase()).collect();
        if lowered.len().abs_diff(wanted.len()) > limit {
            continue;
        }
        let d = distance(&wanted, &lowered);
        if d <= limit && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, candidate));
        }
    }
    best.map(|(_, name)| name.to_string())
}

/// Levenshtein distance with adjacent transpositions counted as one edit (`pdos` → `pods`).
fn distance(a: &[char], b: &[char]) -> usize {
    let width = b.len() + 1;
    let mut rows = vec![vec![0usize; width]; a.len() + 1];
    for (i, cell) in rows.iter_mut().flat_map(|r| r.first_mut()).enumerate() {
        *cell = i;
    }
    if let Some(first) = rows.first_mut() {
        for (j, cell) in first.iter_mut().enumerate() {
            *cell = j;
        }
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let same = a.get(i - 1) == b.get(j - 1);
            let at = |rows: &Vec<Vec<usize>>, i: usize, j: usize| {
                rows.get(i)
                    .and_then(|r| r.get(j))
                    .copied()
                    .unwrap_or(usize::MAX / 2)
            };
            let mut d = (at(&rows, i - 1, j) + 1)
                .min(at(&rows, i, j - 1) + 1)
                .min(at(&rows, i - 1, j - 1) + usize::from(!same));
            if i > 1 && j > 1 && a.get(i - 1) == b.get(j - 2) && a.get(i - 2) == b.get(j - 1) {
                d = d.min(at(&rows, i - 2, j - 2) + 1);
            }
            if let Some(cell) = rows.get_mut(i).and_then(|r| r.get_mut(j)) {
                *cell = d;
            }
        }
    }
    rows.get(a.len())
        .and_then(|r| r.get(b.len()))
        .copied()
        .unwrap_or(usize::MAX)
}

/// `"; did you mean `x`?"`, or nothing: the tail of an error message.
pub fn hint(did_you_mean: &Option<String>) -> String {
    did_you_mean
        .as_ref()
        .map(|name| format!("; did you mean `{name}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_the_name_meant_and_strangers_find_nothing() {
        let actions = ["cks.clusters.create", "cks.clusters.list", "iam.users.list"];
        assert_eq!(
            closest("cks.cluster.create", actions).as_deref(),
            Some("cks.clusters.create")
        );
        assert_eq!(
            closest("IAM.users.lsit", actions).as_deref(),
            Some("iam.users.list")
        );
        assert_eq!(closest("billing.view", actions), None);
        assert_eq!(
            closest("r:pdos", ["r:pods", "w:pods"]).as_deref(),
            Some("r:pods")
        );
        assert_eq!(closest("", ["a"]), None);
        assert_eq!(closest("xyz", Vec::<&str>::new()), None);
        assert_eq!(hint(&Some("a".into())), "; did you mean `a`?");
        assert_eq!(hint(&None), "");
    }
}
