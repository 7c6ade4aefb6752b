//! What can go wrong loading or training a model.

/// A model file that cannot be used.
///
/// # Examples
///
/// ```
/// use hotline_router::classify::model::{Model, ModelError};
///
/// let err = Model::from_bytes(b"not a model").unwrap_err();
/// assert!(matches!(err, ModelError::Truncated { .. } | ModelError::BadMagic));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The file could not be read or written.
    #[error("model file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes do not start with the model magic: not a model file.
    #[error("not a hotline-router model (bad magic bytes)")]
    BadMagic,
    /// A model written by a newer format than this crate reads.
    #[error(
        "model format version {found} is not supported (this crate reads version {supported})"
    )]
    UnsupportedVersion {
        /// The version in the file.
        found: u32,
        /// The version this crate reads.
        supported: u32,
    },
    /// The file ends before the model does.
    #[error("model file truncated: needed {needed} more bytes at offset {offset}")]
    Truncated {
        /// Where reading stopped.
        offset: usize,
        /// How many bytes were missing.
        needed: usize,
    },
    /// The checksum does not match: the file is corrupt.
    #[error("model checksum mismatch (stored {stored:#018x}, computed {computed:#018x}): the file is corrupt")]
    Checksum {
        /// The checksum in the file.
        stored: u64,
        /// The checksum of the bytes read.
        computed: u64,
    },
    /// The content is inconsistent (a checksum collision or a writer bug).
    #[error("invalid model at offset {offset}: {reason}")]
    Invalid {
        /// Where the problem was found.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Training data a model cannot be trained on.
///
/// # Examples
///
/// ```
/// use hotline_router::classify::model::{TrainError, Trainer};
///
/// let err = Trainer::new().train([("暖气不热", "heating")]).unwrap_err();
/// assert!(matches!(err, TrainError::TooFewLabels { found: 1 }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// Fewer than two distinct labels: there is nothing to tell apart.
    #[error("training needs at least 2 distinct labels, found {found}")]
    TooFewLabels {
        /// How many labels were found.
        found: usize,
    },
    /// More labels than a model can hold.
    #[error("training data has {found} labels, more than the limit of {limit}")]
    TooManyLabels {
        /// How many labels were found.
        found: usize,
        /// The limit.
        limit: usize,
    },
    /// An example with an empty label.
    #[error("example {index} has an empty label")]
    EmptyLabel {
        /// The example's position (0-based).
        index: usize,
    },
    /// An option out of its range.
    #[error("invalid training option: {0}")]
    Option(String),
}
