//! Per-site MCS categories. Every site gets its own pair of categories `cLO,cHI` (LO < HI);
//! its files are labelled with them and its PHP-FPM master runs at exactly that level, so an
//! MCS-constrained PHP process of one site cannot touch another site's files. Pairs are compared
//! as sets: two sites may share one category but never both (../shared/SELINUX-NOTES.md).
//!
//! A pair is stored as its index (`sites.mcs_id`) in a fixed enumeration, so the database
//! enforces uniqueness with a plain UNIQUE column and the lowest free index is reused after a
//! delete.

use std::fmt;

/// Categories below this stay free for the distribution and other tools (container runtimes,
/// sVirt) that pick their own from the low range.
pub const FIRST_CATEGORY: u32 = 100;
/// The reference and Fedora policies both define c0–c1023.
pub const LAST_CATEGORY: u32 = 1023;
const SPAN: u32 = LAST_CATEGORY - FIRST_CATEGORY + 1;
/// How many distinct pairs there are (924 · 923 / 2 = 426,426).
pub const PAIRS: u32 = SPAN * (SPAN - 1) / 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct McsPair {
    lo: u32,
    hi: u32,
}

/// Pairs with higher category `h` (offset from FIRST_CATEGORY) start at index `h·(h−1)/2`.
fn first_index(h: u32) -> u32 {
    h * (h - 1) / 2
}

impl McsPair {
    /// The pair stored under `id`, if `id` is in range.
    pub fn from_id(id: i64) -> Option<Self> {
        let id = u32::try_from(id).ok().filter(|i| *i < PAIRS)?;
        // The largest h with first_index(h) <= id; the float estimate is corrected both ways.
        let mut h = ((1.0 + (1.0 + 8.0 * f64::from(id)).sqrt()) / 2.0) as u32;
        while first_index(h) > id {
            h -= 1;
        }
        while h + 1 < SPAN && first_index(h + 1) <= id {
            h += 1;
        }
        let l = id - first_index(h);
        Some(Self {
            lo: FIRST_CATEGORY + l,
            hi: FIRST_CATEGORY + h,
        })
    }

    /// The index this pair is stored under.
    pub fn id(self) -> i64 {
        i64::from(first_index(self.hi - FIRST_CATEGORY) + (self.lo - FIRST_CATEGORY))
    }

    pub fn categories(self) -> (u32, u32) {
        (self.lo, self.hi)
    }

    /// The SELinux level, e.g. `s0:c100,c101`.
    pub fn level(self) -> String {
        self.to_string()
    }

    /// Parses `s0:cA,cB` (A < B, both in the site range).
    pub fn parse(level: &str) -> Option<Self> {
        let cats = level.strip_prefix("s0:")?;
        let (a, b) = cats.split_once(',')?;
        let num = |c: &str| -> Option<u32> {
            let n = c.strip_prefix('c')?;
            if n.is_empty() || n.len() > 4 || !n.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            n.parse().ok()
        };
        let (lo, hi) = (num(a)?, num(b)?);
        (FIRST_CATEGORY <= lo && lo < hi && hi <= LAST_CATEGORY).then_some(Self { lo, hi })
    }
}

impl fmt::Display for McsPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s0:c{},c{}", self.lo, self.hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_index_maps_to_a_distinct_pair_and_back() {
        let mut seen = HashSet::new();
        for id in 0..i64::from(PAIRS) {
            let p = McsPair::from_id(id).unwrap();
            let (lo, hi) = p.categories();
            assert!(
                FIRST_CATEGORY <= lo && lo < hi && hi <= LAST_CATEGORY,
                "{p}"
            );
            assert_eq!(p.id(), id);
            assert_eq!(McsPair::parse(&p.level()), Some(p));
            assert!(seen.insert((lo, hi)), "{p} twice");
        }
        assert_eq!(seen.len(), 426_426);
        assert_eq!(McsPair::from_id(-1), None);
        assert_eq!(McsPair::from_id(i64::from(PAIRS)), None);
    }

    #[test]
    fn the_first_pairs_are_the_low_categories() {
        let first: Vec<String> = (0..4)
            .map(|i| McsPair::from_id(i).unwrap().level())
            .collect();
        assert_eq!(
            first,
            [
                "s0:c100,c101",
                "s0:c100,c102",
                "s0:c101,c102",
                "s0:c100,c103"
            ]
        );
        assert_eq!(
            McsPair::from_id(i64::from(PAIRS) - 1).unwrap().level(),
            "s0:c1022,c1023"
        );
    }

    #[test]
    fn parse_refuses_what_is_not_a_site_pair() {
        for bad in [
            "s0:c101,c100",
            "s0:c100,c100",
            "s0:c99,c100",
            "s0:c100,c1024",
            "s0:c100",
            "s0-s0:c0.c1023",
            "s0:c100,c101,c102",
            "s0:c+100,c101",
            "s0:c00100,c101",
            "",
        ] {
            assert_eq!(McsPair::parse(bad), None, "{bad}");
        }
    }
}
