//! Bounded selection of the highest-scoring rows.

use std::cmp::Ordering;

/// A row with its score; higher scores are better.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scored {
    pub(crate) score: f32,
    pub(crate) row: u32,
}

/// Ordered best first. Equal scores put the lower row first, which keeps results deterministic.
impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        other.score.total_cmp(&self.score).then(self.row.cmp(&other.row))
    }
}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Scored {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Scored {}

/// Keeps the `capacity` best rows pushed into it: rows above the current floor are appended, and
/// when the buffer reaches twice the capacity it is cut back to the best `capacity` (a linear
/// selection), which raises the floor. Amortised O(1) per row, no per-row sifting.
pub(crate) struct TopK {
    capacity: usize,
    kept: Vec<Scored>,
    /// Rows at or below this score cannot enter any more.
    floor: f32,
}

impl TopK {
    pub(crate) fn new(capacity: usize) -> Self {
        let floor = if capacity == 0 { f32::INFINITY } else { f32::NEG_INFINITY };
        Self { capacity, kept: Vec::new(), floor }
    }

    #[inline]
    pub(crate) fn push(&mut self, score: f32, row: u32) {
        if score > self.floor {
            self.kept.push(Scored { score, row });
            if self.kept.len() >= 2 * self.capacity + 64 {
                self.cut();
            }
        }
    }

    /// Rows at or below this score cannot enter any more (it only rises, and lags behind the
    /// k-th best pushed until the next cut).
    pub(crate) fn floor(&self) -> f32 {
        self.floor
    }

    /// Keeps only the best `capacity` rows and raises the floor to the worst of them.
    fn cut(&mut self) {
        if self.kept.len() > self.capacity {
            self.kept.select_nth_unstable(self.capacity - 1);
            self.kept.truncate(self.capacity);
        }
        if self.kept.len() == self.capacity && self.capacity > 0 {
            self.floor = self.kept.iter().map(|s| s.score).fold(f32::INFINITY, f32::min);
        }
    }

    /// The score a row must beat to be among the best `capacity`, or −∞ while fewer are kept.
    pub(crate) fn bar(&mut self) -> f32 {
        self.cut();
        if self.kept.len() < self.capacity {
            f32::NEG_INFINITY
        } else {
            self.floor
        }
    }

    /// Adds every entry of `other`.
    pub(crate) fn merge(&mut self, other: TopK) {
        for s in other.kept {
            self.push(s.score, s.row);
        }
    }

    /// The kept rows in no particular order.
    pub(crate) fn into_unsorted(mut self) -> Vec<Scored> {
        self.cut();
        self.kept
    }

    /// The kept rows, best first.
    pub(crate) fn into_sorted(mut self) -> Vec<Scored> {
        self.cut();
        self.kept.sort_unstable();
        self.kept
    }
}

/// A selection that several threads fill separately and then combine.
pub(crate) trait Selection: Send {
    fn merge(&mut self, other: Self);
}

impl Selection for TopK {
    fn merge(&mut self, other: Self) {
        TopK::merge(self, other);
    }
}

/// Calls `visit(i)` for each `scores[i] >= bar`. Each group of 16 scores is compared at once
/// (vectorised) and only those at or above are visited, as in a long scan nearly all are not.
#[inline(always)]
pub(crate) fn for_each_at_or_above(scores: &[f32], bar: f32, mut visit: impl FnMut(usize)) {
    for (g, group) in scores.chunks(16).enumerate() {
        let mut above = group.iter().enumerate().fold(0u32, |m, (i, &s)| m | (u32::from(s >= bar) << i));
        while above != 0 {
            visit(g * 16 + above.trailing_zeros() as usize);
            above &= above - 1;
        }
    }
}

/// Candidates that must all be considered (the refined faces that may be at or above a
/// guaranteed similarity), except those more than `slack` below the k-th best of them, which can
/// never make the top `k`.
pub(crate) struct Sure {
    best: TopK,
    kept: Vec<Scored>,
    slack: f32,
}

impl Sure {
    pub(crate) fn new(k: usize, slack: f32) -> Self {
        Self { best: TopK::new(k), kept: Vec::new(), slack }
    }

    pub(crate) fn push(&mut self, score: f32, row: u32) {
        self.best.push(score, row);
        if score >= self.best.floor - self.slack {
            self.kept.push(Scored { score, row });
        }
    }

    /// The candidates, in no particular order.
    pub(crate) fn into_candidates(mut self) -> Vec<Scored> {
        let lower = self.best.bar() - self.slack;
        self.kept.retain(|s| s.score >= lower);
        self.kept
    }
}

impl Selection for Sure {
    fn merge(&mut self, other: Self) {
        self.best.merge(other.best);
        self.kept.extend(other.kept);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_best_in_order() {
        let mut a = TopK::new(3);
        for (row, score) in [0.1f32, 0.9, -0.3, 0.5, 0.9, 0.2].into_iter().enumerate() {
            a.push(score, row as u32);
        }
        let mut b = TopK::new(3);
        b.push(0.7, 10);
        a.merge(b);
        let rows: Vec<u32> = a.into_sorted().iter().map(|s| s.row).collect();
        assert_eq!(rows, [1, 4, 10]);
    }

    #[test]
    fn cuts_keep_the_best_of_many() {
        // Scores rise and fall so that several cuts happen with rows still to come.
        let scores: Vec<f32> = (0..10_000u32).map(|row| ((row * 7919) % 10_007) as f32).collect();
        let mut one_by_one = TopK::new(5);
        for (row, &score) in scores.iter().enumerate() {
            one_by_one.push(score, row as u32);
        }
        let mut grouped = TopK::new(5);
        for (i, part) in scores.chunks(100).enumerate() {
            let bar = grouped.floor();
            for_each_at_or_above(part, bar, |j| grouped.push(part[j], (100 * i + j) as u32));
        }
        let best = [10_006.0, 10_005.0, 10_004.0, 10_003.0, 10_002.0];
        let rows: Vec<u32> = best.iter().map(|b| scores.iter().position(|s| s == b).unwrap() as u32).collect();
        for top in [one_by_one, grouped] {
            let kept = top.into_sorted();
            assert_eq!(kept.iter().map(|s| s.score).collect::<Vec<_>>(), best);
            assert_eq!(kept.iter().map(|s| s.row).collect::<Vec<_>>(), rows);
        }
    }

    #[test]
    fn bar_is_the_kth_best_once_full() {
        let mut top = TopK::new(2);
        assert_eq!(top.bar(), f32::NEG_INFINITY);
        top.push(0.3, 0);
        assert_eq!(top.bar(), f32::NEG_INFINITY);
        top.push(0.5, 1);
        top.push(0.1, 2);
        assert_eq!(top.bar(), 0.3);
        top.push(0.4, 3);
        assert_eq!(top.bar(), 0.4);
    }

    #[test]
    fn sure_lists_leave_out_rows_far_below_the_kth_best() {
        let mut list = Sure::new(2, 0.25);
        for (row, score) in [0.1f32, 0.5, 0.3, 0.2, 0.6, 0.34, 0.36].into_iter().enumerate() {
            list.push(score, row as u32);
        }
        let mut other = Sure::new(2, 0.25);
        other.push(0.7, 100);
        other.push(0.2, 101);
        list.merge(other);
        let mut rows: Vec<u32> = list.into_candidates().iter().map(|s| s.row).collect();
        rows.sort_unstable();
        // The second best is 0.6: rows at or above 0.35 are kept.
        assert_eq!(rows, [1, 4, 6, 100]);
    }

    #[test]
    fn visits_exactly_the_scores_at_or_above_the_bar() {
        let scores: Vec<f32> = (0..40).map(|i| (i * 7 % 11) as f32).collect();
        let mut seen = Vec::new();
        for_each_at_or_above(&scores, 8.0, |i| seen.push(i));
        let want: Vec<usize> = (0..40).filter(|&i| scores[i] >= 8.0).collect();
        assert_eq!(seen, want);
    }

    #[test]
    fn zero_capacity_keeps_nothing() {
        let mut top = TopK::new(0);
        top.push(1.0, 0);
        assert!(top.into_sorted().is_empty());
    }
}
