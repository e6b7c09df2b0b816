//! A vector in fixed-size pages.
//!
//! The per-attribute columns (`attrs`, `ext`) are filled in bulk one
//! chunk of [`PAGE`] attributes at a time by the pool. Keeping them in
//! pages lets a finished chunk's column *become* a page (a move) instead
//! of being copied into one big vector, so a bulk build never holds a
//! column twice; growing never copies either.

use rayon::prelude::*;

/// Elements per page (the bulk builder's chunk size).
pub(crate) const PAGE: usize = 1 << 14;

/// A vector of `T` in pages of [`PAGE`] elements (the last one partial).
#[derive(Debug, Clone)]
pub(crate) struct Paged<T> {
    pages: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Paged<T> {
    fn default() -> Self {
        Paged {
            pages: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Copy + Send + Sync> Paged<T> {
    /// Number of elements.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Element `i`.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        self.pages.get(i / PAGE)?.get(i % PAGE)
    }

    /// Element `i`, mutably.
    #[inline]
    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.pages.get_mut(i / PAGE)?.get_mut(i % PAGE)
    }

    /// Appends one element.
    pub(crate) fn push(&mut self, value: T) {
        match self.pages.last_mut() {
            Some(p) if p.len() < PAGE => p.push(value),
            _ => {
                let mut p = Vec::with_capacity(PAGE);
                p.push(value);
                self.pages.push(p);
            }
        }
        self.len += 1;
    }

    /// Appends a whole page (at most [`PAGE`] elements). Moves it in if
    /// every page so far is full, else appends its elements.
    pub(crate) fn push_page(&mut self, page: Vec<T>) {
        let aligned = self.len % PAGE == 0 && page.len() <= PAGE;
        if aligned {
            self.len += page.len();
            self.pages.push(page);
        } else {
            for v in page {
                self.push(v);
            }
        }
    }

    /// The pages with the index of their first element.
    pub(crate) fn pages(&self) -> impl Iterator<Item = (usize, &[T])> + '_ {
        self.pages
            .iter()
            .enumerate()
            .map(|(i, p)| (i * PAGE, p.as_slice()))
    }

    /// The pages with the index of their first element, in parallel.
    pub(crate) fn par_pages(&self) -> impl IndexedParallelIterator<Item = (usize, &[T])> + '_ {
        self.pages
            .par_iter()
            .enumerate()
            .map(|(i, p)| (i * PAGE, p.as_slice()))
    }

    /// The pages with the index of their first element, mutably, in
    /// parallel.
    pub(crate) fn par_pages_mut(
        &mut self,
    ) -> impl IndexedParallelIterator<Item = (usize, &mut [T])> + '_ {
        self.pages
            .par_iter_mut()
            .enumerate()
            .map(|(i, p)| (i * PAGE, p.as_mut_slice()))
    }
}

impl<T> std::ops::Index<usize> for Paged<T> {
    type Output = T;

    /// Element `i`; panics if `i >= len` (like a slice). Only used where
    /// the index comes from the engine itself, never from input.
    fn index(&self, i: usize) -> &T {
        &self.pages[i / PAGE][i % PAGE]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_push_and_index() {
        let mut p: Paged<u32> = Paged::default();
        p.push_page((0..PAGE as u32).collect());
        p.push_page(vec![7, 8]);
        p.push_page(vec![9]); // not aligned: appended
        for i in 0..5 {
            p.push(100 + i);
        }
        assert_eq!(p.len(), PAGE + 8);
        assert_eq!(p.get(5), Some(&5));
        assert_eq!(p.get(PAGE), Some(&7));
        assert_eq!(p.get(PAGE + 2), Some(&9));
        assert_eq!(p.get(PAGE + 7), Some(&104));
        assert_eq!(p.get(PAGE + 8), None);
        *p.get_mut(1).unwrap() = 42;
        let flat: Vec<u32> = p.pages().flat_map(|(_, s)| s.iter().copied()).collect();
        assert_eq!(flat.get(1), Some(&42));
        assert_eq!(flat.len(), p.len());
        let firsts: Vec<usize> = p.pages().map(|(first, _)| first).collect();
        assert_eq!(firsts, [0, PAGE]);
        let sum: usize = p.par_pages().map(|(_, s)| s.len()).sum();
        assert_eq!(sum, p.len());
    }
}
