//! The keyword table a taxonomy compiles through, and the word-boundary test.

use std::collections::HashMap;

use super::CategoryId;
use crate::error::{BuildError, BuildErrorKind};

/// The longest category code, in bytes.
pub(super) const MAX_CODE_LEN: usize = 64;

/// One distinct keyword while a taxonomy compiles.
pub(super) struct KeywordEntry {
    pub(super) text: String,
    pub(super) weights: Vec<(CategoryId, i32)>,
    pub(super) urgent_anywhere: bool,
}

/// Distinct keywords while a taxonomy compiles: text → (category, weight)
/// pairs, and whether it is a global urgency word.
#[derive(Default)]
pub(super) struct KeywordTable {
    pub(super) list: Vec<KeywordEntry>,
    pub(super) index: HashMap<String, usize>,
}

impl KeywordTable {
    pub(super) fn slot(&mut self, word: &str, category: &str) -> Result<usize, BuildError> {
        let word = word.trim();
        if word.is_empty() {
            return Err(BuildErrorKind::InvalidKeyword {
                category: category.to_string(),
                keyword: word.to_string(),
            }
            .into());
        }
        // ASCII case-insensitive matching: "Visa" and "visa" are one keyword.
        let key = word.to_ascii_lowercase();
        if let Some(&k) = self.index.get(&key) {
            return Ok(k);
        }
        self.list.push(KeywordEntry {
            text: key.clone(),
            weights: Vec::new(),
            urgent_anywhere: false,
        });
        self.index.insert(key, self.list.len() - 1);
        Ok(self.list.len() - 1)
    }
}

/// Whether `bytes[start..end]` is not glued to ASCII letters or digits on
/// either side (CJK text next to a Latin word counts as a boundary).
pub(super) fn at_word_boundaries(bytes: &[u8], start: usize, end: usize) -> bool {
    let glued = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
    !glued(start.checked_sub(1).and_then(|i| bytes.get(i))) && !glued(bytes.get(end))
}
