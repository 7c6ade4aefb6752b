//! Data parallelism where it pays (model training, restore, snapshot
//! decoding): on rayon with the `replay` feature, and otherwise the same
//! calls run sequentially on the calling thread.
//!
//! Every parallel path in the crate collects in input order or reduces with
//! an order-independent operation, so both give the same results; without
//! rayon only the wall-clock time differs.

#[cfg(all(feature = "replay", feature = "journal"))]
pub(crate) use rayon::spawn;

#[cfg(feature = "replay")]
pub(crate) use rayon::prelude;

/// rayon's prelude for the few methods the crate calls, as plain iterators.
#[cfg(not(feature = "replay"))]
pub(crate) mod prelude {
    /// `into_par_iter()`: `into_iter()`.
    pub(crate) trait IntoParallelIterator: IntoIterator + Sized {
        /// Sequentially: the ordinary iterator.
        fn into_par_iter(self) -> Self::IntoIter {
            self.into_iter()
        }
    }

    impl<I: IntoIterator> IntoParallelIterator for I {}

    /// `par_iter()` on a slice: `iter()`.
    pub(crate) trait IntoParallelRefIterator<T> {
        /// Sequentially: the slice's iterator.
        fn par_iter(&self) -> std::slice::Iter<'_, T>;
    }

    impl<T> IntoParallelRefIterator<T> for [T] {
        fn par_iter(&self) -> std::slice::Iter<'_, T> {
            self.iter()
        }
    }

    /// `par_sort_unstable()` on a slice: `sort_unstable()`.
    pub(crate) trait ParallelSliceMut<T: Ord> {
        /// Sequentially: the slice's own sort.
        fn par_sort_unstable(&mut self);
    }

    impl<T: Ord> ParallelSliceMut<T> for [T] {
        fn par_sort_unstable(&mut self) {
            self.sort_unstable()
        }
    }
}

/// rayon's `spawn`: without rayon the job runs at once, on this thread.
#[cfg(all(not(feature = "replay"), feature = "journal"))]
pub(crate) fn spawn<F: FnOnce() + Send + 'static>(job: F) {
    job()
}
