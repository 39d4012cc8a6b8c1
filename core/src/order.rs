//! Sorting, in one place. Every sort of the crate goes through [`stable_order`], so the npm
//! bundle carries one sort: each `sort*` call on another element type or closure added 2–5 KB of
//! wasm (34 KB in all before this module). It is a plain merge sort rather than std's
//! (driftsort with its small-sort networks, ~3 KB of wasm): the sorts here are of issues, 249
//! countries and a Unicode table decoded once.

use std::cmp::Ordering;

/// The indices `0..len` in the order `cmp` defines; equal elements keep their relative order.
pub fn stable_order(len: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    // Bottom-up: merge runs of width 1, 2, 4… from `order` into `merged`, then swap them.
    let mut order: Vec<usize> = Vec::with_capacity(len);
    for i in 0..len {
        order.push(i);
    }
    let mut merged = Vec::with_capacity(len);
    let mut width = 1;
    while width < len {
        merged.clear();
        for start in (0..len).step_by(2 * width) {
            let mid = (start + width).min(len);
            let end = (start + 2 * width).min(len);
            let (mut left, mut right) = (start, mid);
            while left < mid && right < end {
                // Ties take the left run first: the sort is stable.
                if cmp(order[right], order[left]) == Ordering::Less {
                    merged.push(order[right]);
                    right += 1;
                } else {
                    merged.push(order[left]);
                    left += 1;
                }
            }
            merged.extend_from_slice(&order[left..mid]);
            merged.extend_from_slice(&order[right..end]);
        }
        std::mem::swap(&mut order, &mut merged);
        width *= 2;
    }
    order
}

/// `items` rearranged in `order` (a permutation of their indices, as [`stable_order`] gives).
pub fn permute<T>(items: Vec<T>, order: &[usize]) -> Vec<T> {
    // Loops, not `map(..).collect()` and `filter_map(..).collect()`: each instantiation's
    // adapters cost the package more.
    let mut slots: Vec<Option<T>> = Vec::with_capacity(items.len());
    for item in items {
        slots.push(Some(item));
    }
    let mut out = Vec::with_capacity(order.len());
    for &i in order {
        if let Some(item) = slots.get_mut(i).and_then(Option::take) {
            out.push(item);
        }
    }
    out
}

/// `items` sorted by `cmp`, stably, as copies: for small `Copy` items (the NFC tables), where
/// `sorted_by`'s slots of `Option<T>` would cost the npm package more code.
pub fn sorted_copies<T: Copy>(items: &[T], cmp: impl Fn(&T, &T) -> Ordering) -> Vec<T> {
    let order = stable_order(items.len(), &|a, b| cmp(&items[a], &items[b]));
    let mut out = Vec::with_capacity(items.len());
    for i in order {
        out.push(items[i]);
    }
    out
}

/// `items` sorted stably by `cmp`.
pub fn sorted_by<T>(items: Vec<T>, cmp: impl Fn(&T, &T) -> Ordering) -> Vec<T> {
    let order = stable_order(items.len(), &|a, b| cmp(&items[a], &items[b]));
    permute(items, &order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_stably() {
        let items = vec![(3, 'a'), (1, 'b'), (3, 'c'), (0, 'd'), (1, 'e')];
        let sorted = sorted_by(items, |x, y| x.0.cmp(&y.0));
        assert_eq!(
            sorted,
            vec![(0, 'd'), (1, 'b'), (1, 'e'), (3, 'a'), (3, 'c')]
        );
    }

    #[test]
    fn matches_the_standard_sort() {
        for len in [0, 1, 2, 3, 7, 8, 9, 1000, 1025] {
            let mut seed = 7u64 + len as u64;
            let items: Vec<(u32, usize)> = (0..len)
                .map(|i| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((seed >> 40) as u32 % 97, i)
                })
                .collect();
            let mut expected = items.clone();
            expected.sort_by_key(|x| x.0);
            assert_eq!(sorted_by(items, |a, b| a.0.cmp(&b.0)), expected, "{len}");
        }
    }

    #[test]
    fn sorted_copies_agree_with_sorted_by() {
        let items = [(3, 1), (1, 9), (3, 0), (0, 5), (1, 2), (1, 9)];
        let by_first = |a: &(i32, i32), b: &(i32, i32)| a.0.cmp(&b.0);
        assert_eq!(
            sorted_copies(&items, by_first),
            sorted_by(items.to_vec(), by_first)
        );
        assert_eq!(
            sorted_copies(&items, Ord::cmp),
            vec![(0, 5), (1, 2), (1, 9), (1, 9), (3, 0), (3, 1)]
        );
    }

    #[test]
    fn sorts_numbers() {
        let mut seed = 7u64;
        let items: Vec<u32> = (0..1000)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (seed >> 40) as u32 % 97
            })
            .collect();
        let mut expected = items.clone();
        expected.sort();
        assert_eq!(sorted_by(items, Ord::cmp), expected);
    }
}
