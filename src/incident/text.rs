//! Text signatures: what a ticket says, as a bounded set of character
//! bigrams, for telling two problems at one place apart.
//!
//! A ticket's [`Words`] are all its content bigrams, hashed to 16 bits and
//! sorted. An incident keeps a [`Signature`]: the [`K`] smallest hashes of
//! the union of its tickets' bigrams (a bottom-k sketch) and how many
//! distinct ones there were. Up to `K` — a single ticket, or two or three
//! short ones — the signature is exact; beyond, it is a uniform sample, and
//! the union of two sketches is again a sketch of the union, so an incident
//! of any size costs the same 100 bytes. Sixteen-bit hashes collide rarely
//! at these sizes (two unrelated 20-bigram texts share a hash with
//! probability about 0.6%).
//!
//! *Content* excludes what says nothing about the problem: digits (house
//! numbers, times), function characters (的, 了, 我 …), filler phrases
//! (你好, 希望, 尽快处理 …) and the place — any bigram of the ticket's address
//! or of its district, street and community names.

use smallvec::SmallVec;

use crate::classify::normalize::normalize;
use crate::hash::mix;
use crate::{CommunityId, DistrictId, Router, StreetId};

/// Hashes kept per incident signature.
pub(crate) const K: usize = 48;

/// A ticket's content bigrams: distinct 16-bit hashes, ascending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Words {
    grams: SmallVec<[u16; 64]>,
}

impl Words {
    /// The content bigrams of normalised `text`, leaving out bigrams of
    /// `place` (the address and jurisdiction names).
    pub(crate) fn of(text: &str, place: &PlaceGrams) -> Words {
        let mut units: SmallVec<[u32; 96]> = SmallVec::new();
        units_into(text, &mut units);
        // A character in a filler or place bigram is dropped, so that no
        // bigram straddles filler and content ("麻烦|尽快", "金台里|暖气").
        let n = units.len();
        let mut keep: SmallVec<[bool; 96]> = SmallVec::from_elem(true, n);
        let mut hashes: SmallVec<[u16; 96]> = SmallVec::from_elem(0, n);
        for k in 1..n {
            let (a, b) = (units[k - 1], units[k]);
            if a != BREAK && b != BREAK {
                let h = pair(a, b);
                hashes[k] = h;
                if is_filler(h) || place.contains(h) {
                    keep[k - 1] = false;
                    keep[k] = false;
                }
            }
        }
        let mut grams: SmallVec<[u16; 64]> = (1..n)
            .filter(|&k| units[k - 1] != BREAK && units[k] != BREAK && keep[k - 1] && keep[k])
            .map(|k| hashes[k])
            .collect();
        grams.sort_unstable();
        grams.dedup();
        Words { grams }
    }

    /// Whether the text had no content at all.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.grams.is_empty()
    }

    /// The overlap coefficient with an incident's signature: |A ∩ B| /
    /// min(|A|, |B|), 1 when one side's content is inside the other's, 0
    /// when they share nothing.
    pub(crate) fn similarity(&self, sig: &Signature) -> f32 {
        let small = (self.grams.len() as u32).min(sig.count);
        if small == 0 {
            return 0.0;
        }
        (self.intersection(sig) / small as f32).min(1.0)
    }

    /// The share of this text's content the incident has: |A ∩ B| / |A|.
    /// Stricter than [`similarity`](Self::similarity) when the incident
    /// says little: a ticket of a related category must carry the
    /// incident's words, not merely share one with a short incident.
    pub(crate) fn containment(&self, sig: &Signature) -> f32 {
        if self.grams.is_empty() || sig.count == 0 {
            return 0.0;
        }
        (self.intersection(sig) / self.grams.len() as f32).min(1.0)
    }

    /// |A ∩ B|: exact while the signature is; otherwise the share of this
    /// text's bigrams (among those the sample covers) that the incident
    /// has, times this text's size.
    fn intersection(&self, sig: &Signature) -> f32 {
        let horizon = sig.horizon();
        let kept = sig.hashes();
        let (mut covered, mut common) = (0u32, 0u32);
        let mut j = 0;
        for &g in &self.grams {
            if g > horizon {
                break;
            }
            covered += 1;
            while j < kept.len() && kept[j] < g {
                j += 1;
            }
            if j < kept.len() && kept[j] == g {
                common += 1;
            }
        }
        if sig.is_exact() {
            common as f32
        } else if covered == 0 {
            0.0
        } else {
            common as f32 / covered as f32 * self.grams.len() as f32
        }
    }
}

/// A bottom-k sketch of an incident's content bigrams.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Signature {
    /// The smallest distinct hashes, ascending; `len` of them are set.
    hashes: [u16; K],
    len: u8,
    /// Distinct bigrams in the union (estimated once there are more than K).
    count: u32,
}

impl Signature {
    /// The empty signature (no words at all).
    pub(crate) const EMPTY: Signature = Signature {
        hashes: [0; K],
        len: 0,
        count: 0,
    };

    /// The signature of one ticket's words.
    pub(crate) fn of(words: &Words) -> Signature {
        let mut s = Signature::EMPTY;
        s.absorb(words);
        s
    }

    fn hashes(&self) -> &[u16] {
        &self.hashes[..self.len as usize]
    }

    /// Whether every bigram is kept (no sampling).
    fn is_exact(&self) -> bool {
        self.count as usize <= K
    }

    /// The largest hash the sketch is complete up to.
    fn horizon(&self) -> u16 {
        if self.is_exact() {
            u16::MAX
        } else {
            self.hashes[K - 1]
        }
    }

    /// Adds a ticket's words: the sketch of the union.
    pub(crate) fn absorb(&mut self, words: &Words) {
        let n = words.grams.len() as u32;
        self.union(&words.grams, n, true);
    }

    /// Adds another incident's signature (two incidents merged).
    pub(crate) fn absorb_signature(&mut self, other: &Signature) {
        let exact = other.is_exact();
        self.union(other.hashes(), other.count, exact);
    }

    /// The union with a sorted set of hashes (`count` distinct in all,
    /// `exact` if `other` holds every one of them).
    fn union(&mut self, other: &[u16], count: u32, exact: bool) {
        let mut merged = [0u16; K];
        let a = self.hashes();
        let (mut i, mut j, mut n) = (0, 0, 0);
        while n < K {
            let next = match (a.get(i), other.get(j)) {
                (Some(&x), Some(&y)) if x == y => {
                    i += 1;
                    j += 1;
                    x
                }
                (Some(&x), Some(&y)) if x < y => {
                    i += 1;
                    x
                }
                (Some(_), Some(&y)) => {
                    j += 1;
                    y
                }
                (Some(&x), None) => {
                    i += 1;
                    x
                }
                (None, Some(&y)) => {
                    j += 1;
                    y
                }
                (None, None) => break,
            };
            merged[n] = next;
            n += 1;
        }
        let complete = self.is_exact() && exact && i == a.len() && j == other.len();
        self.count = if complete {
            n as u32
        } else {
            // The k-th smallest of n uniform hashes sits near k / n of the
            // range: the usual bottom-k estimate of the union's size.
            let kth = (f64::from(merged[K - 1]) + 1.0) / 65_536.0;
            let estimate = ((K - 1) as f64 / kth).round() as u32;
            estimate.max(self.count).max(count).max(K as u32 + 1)
        };
        self.hashes = merged;
        self.len = n as u8;
    }
}

/// The bigrams of every district, street and community name, computed
/// once, in one array (read in place: no pointer to follow per name).
#[derive(Debug)]
pub(crate) struct NameGrams {
    grams: Vec<u16>,
    /// Per district, then street, then community: where its bigrams end.
    ends: Vec<u32>,
    streets_at: usize,
    communities_at: usize,
}

impl NameGrams {
    pub(crate) fn new(router: &Router) -> NameGrams {
        let j = router.jurisdictions();
        let mut grams = Vec::new();
        let mut ends = Vec::new();
        let mut add = |name: &str| {
            grams.extend_from_slice(&grams_of(name));
            ends.push(grams.len() as u32);
        };
        j.districts().for_each(|(_, d)| add(d.name()));
        let streets_at = j.districts().len();
        j.streets().for_each(|(_, s)| add(s.name()));
        let communities_at = streets_at + j.streets().len();
        j.communities().for_each(|(_, c)| add(c.name()));
        NameGrams {
            grams,
            ends,
            streets_at,
            communities_at,
        }
    }

    fn get(&self, index: usize) -> Option<&[u16]> {
        let end = *self.ends.get(index)? as usize;
        let start = index.checked_sub(1).map_or(0, |i| self.ends[i] as usize);
        self.grams.get(start..end)
    }

    pub(crate) fn district(&self, d: DistrictId) -> Option<&[u16]> {
        (d.as_usize() < self.streets_at).then(|| self.get(d.as_usize()))?
    }

    pub(crate) fn street(&self, s: StreetId) -> Option<&[u16]> {
        let i = self.streets_at + s.as_usize();
        (i < self.communities_at).then(|| self.get(i))?
    }

    pub(crate) fn community(&self, c: CommunityId) -> Option<&[u16]> {
        self.get(self.communities_at + c.as_usize())
    }
}

/// Bigram hashes of the place a ticket names, left out of its signature:
/// a 4,096-bit set on the stack (a ticket's place has a few dozen bigrams,
/// so about 1% of other bigrams are left out with them — cheaper than
/// sorting, and harmless).
#[derive(Debug)]
pub(crate) struct PlaceGrams {
    bits: [u64; 64],
}

impl Default for PlaceGrams {
    fn default() -> Self {
        PlaceGrams { bits: [0; 64] }
    }
}

impl PlaceGrams {
    /// Adds the bigrams of a normalised place name or address.
    pub(crate) fn add(&mut self, place: &str) {
        let mut units: SmallVec<[u32; 96]> = SmallVec::new();
        units_into(place, &mut units);
        for w in units.windows(2) {
            if w[0] != BREAK && w[1] != BREAK {
                self.insert(pair(w[0], w[1]));
            }
        }
    }

    /// Adds bigrams computed before (a jurisdiction's name).
    pub(crate) fn add_grams(&mut self, grams: &[u16]) {
        for &h in grams {
            self.insert(h);
        }
    }

    /// Adds the place normalised `text` starts with, if it starts with one:
    /// free text without an address often opens with the caller's compound
    /// ("天通北苑二区门口的路结冰了", "龙城花园北边那条路"), which would make
    /// two problems at one place look alike.
    pub(crate) fn add_leading_place(&mut self, text: &str) {
        if let Some(place) = super::place::leading_place(text) {
            self.add(place);
        }
    }

    fn insert(&mut self, h: u16) {
        self.bits[usize::from(h >> 6) & 63] |= 1 << (h & 63);
    }

    fn contains(&self, h: u16) -> bool {
        self.bits[usize::from(h >> 6) & 63] >> (h & 63) & 1 == 1
    }
}

/// Every bigram hash of `text` (normalised first), in order, repeats kept.
pub(crate) fn grams_of(text: &str) -> SmallVec<[u16; 32]> {
    let mut units: SmallVec<[u32; 96]> = SmallVec::new();
    units_into(&normalize(text), &mut units);
    units
        .windows(2)
        .filter(|w| w[0] != BREAK && w[1] != BREAK)
        .map(|w| pair(w[0], w[1]))
        .collect()
}

/// A break between units: no bigram spans it.
const BREAK: u32 = 0;

/// Appends the units of normalised `text` that bigrams are made of, with
/// [`BREAK`] where a bigram cannot span: content characters (Han
/// ideographs, kana, Hangul) one unit each (their code point), Latin words
/// of three letters or more one unit each (a hash with the top bit set,
/// lower-cased; spaces between words do not break), and a break for
/// everything else — digits, punctuation, function characters, short words.
fn units_into(text: &str, out: &mut SmallVec<[u32; 96]>) {
    let (mut word, mut word_len) = (0u64, 0usize);
    let word_unit = |w: u64| (mix(w) as u32) | 1 << 31;
    for c in text.chars() {
        if c.is_ascii_alphabetic() {
            word = word
                .wrapping_mul(31)
                .wrapping_add(c.to_ascii_lowercase() as u64);
            word_len += 1;
            continue;
        }
        if word_len > 0 {
            out.push(if word_len >= 3 {
                word_unit(word)
            } else {
                BREAK
            });
            (word, word_len) = (0, 0);
        }
        if is_content(c) && !is_function(c) {
            out.push(c as u32);
        } else if c.is_whitespace() && out.last().is_some_and(|u| u >> 31 == 1) {
            // Between two words: no break.
        } else if out.last().is_some_and(|u| *u != BREAK) {
            out.push(BREAK);
        }
    }
    if word_len >= 3 {
        out.push(word_unit(word));
    }
}

/// Han ideographs, kana and Hangul syllables: the characters bigrams are
/// made of.
fn is_content(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
}

/// Function characters: particles, pronouns, the copula, measure words.
/// They break bigrams, so "暖气不热了" and "暖气不热" give the same ones.
/// 不, 没 and 无 stay: they are the problem (不热, 没水).
fn is_function(c: char) -> bool {
    matches!(
        c,
        '的' | '了'
            | '吗'
            | '呢'
            | '吧'
            | '啊'
            | '呀'
            | '哦'
            | '嘛'
            | '么'
            | '我'
            | '你'
            | '您'
            | '他'
            | '她'
            | '它'
            | '们'
            | '这'
            | '那'
            | '个'
            | '是'
            | '在'
            | '就'
            | '都'
            | '也'
            | '还'
            | '很'
            | '把'
            | '被'
            | '给'
            | '让'
            | '和'
            | '与'
            | '及'
            | '或'
            | '嗯'
            | '啦'
            | '喂'
            | '又'
            | '再'
            | '才'
            | '得'
            | '着'
            | '过'
    )
}

/// Filler phrases of hotline tickets, as bigrams: greetings, requests and
/// time words, and the words every address uses.
const FILLER: &[&str] = &[
    "你好", "请问", "麻烦", "谢谢", "希望", "尽快", "赶快", "赶紧", "处理", "解决", "反映", "一下",
    "帮忙", "问题", "情况", "现在", "已经", "今天", "昨天", "明天", "早上", "晚上", "上午", "下午",
    "中午", "半夜", "凌晨", "小时", "好几", "几天", "一直", "什么", "时候", "怎么", "为什", "什么",
    "能不", "不能", "可以", "有没", "没有", "有人", "人管", "没人", "派人", "来人", "来看", "看看",
    "请求", "要求", "投诉", "举报", "咨询", "居民", "住户", "业主", "家里", "我家", "小区", "社区",
    "街道", "号楼", "单元", "附近", "旁边", "这边", "那边", "门口", "到底", "真的", "实在", "非常",
    "特别", "严重", "影响", "生活", "正常", "部门", "相关", "有关", "协调", "督促", "尽早", "马上",
    "立即", "北京", "市民", "我们", "你们", "他们", "而且", "但是", "因为", "所以", "如果",
];

fn is_filler(h: u16) -> bool {
    filler()[usize::from(h >> 6)] >> (h & 63) & 1 == 1
}

/// The filler bigrams' hashes as a 65,536-bit set (computed once).
fn filler() -> &'static [u64; 1024] {
    static FILLER_BITS: std::sync::OnceLock<Box<[u64; 1024]>> = std::sync::OnceLock::new();
    FILLER_BITS.get_or_init(|| {
        let mut bits = Box::new([0u64; 1024]);
        for phrase in FILLER {
            for h in grams_of(phrase) {
                bits[usize::from(h >> 6)] |= 1 << (h & 63);
            }
        }
        bits
    })
}

fn pair(a: u32, b: u32) -> u16 {
    (mix(u64::from(a) << 32 | u64::from(b)) >> 48) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Words {
        Words::of(&normalize(text), &PlaceGrams::default())
    }

    fn sim(a: &str, b: &str) -> f32 {
        words(a).similarity(&Signature::of(&words(b)))
    }

    fn place(names: &[&str]) -> PlaceGrams {
        let mut p = PlaceGrams::default();
        for n in names {
            p.add(&normalize(n));
        }
        p
    }

    #[test]
    fn filler_and_function_words_are_not_content() {
        assert!(words("你好，麻烦尽快处理一下，谢谢！").is_empty());
        assert_eq!(words("暖气不热了"), words("暖气不热"));
        assert_eq!(words("3号楼暖气不热"), words("暖气不热"));
    }

    #[test]
    fn the_place_is_left_out() {
        let p = place(&["朝阳区呼家楼街道金台里社区"]);
        assert_eq!(Words::of("金台里暖气不热", &p), words("暖气不热"));
        // 4,096 bits hold a few dozen place bigrams with few false hits.
        let mut q = PlaceGrams::default();
        q.add("朝阳区呼家楼街道金台里社区十四号楼三单元");
        let hits = (0..=u16::MAX).filter(|h| q.contains(*h)).count();
        assert!(hits < 65_536 / 64, "{hits}");
    }

    #[test]
    fn similarity_is_an_overlap() {
        // 暖气 and 不热 are shared; the first has 3 bigrams (暖气, 气不, 不热).
        let s = sim("暖气不热", "暖气片不热，屋里很冷");
        assert!((s - 2.0 / 3.0).abs() < 1e-6, "{s}");
        assert_eq!(sim("暖气不热", "暖气不热"), 1.0);
        assert_eq!(sim("暖气不热", "电梯坏"), 0.0);
        assert_eq!(words("暖气不热").similarity(&Signature::EMPTY), 0.0);
        assert_eq!(
            Words::default().similarity(&Signature::of(&words("暖气"))),
            0.0
        );
    }

    #[test]
    fn long_incidents_are_sampled_not_truncated() {
        let mut sig = Signature::EMPTY;
        let texts = [
            "您好我是住在这里的居民从供暖开始家里暖气就一直不太热今天早上量了一下室温只有十五度",
            "家里有刚满月的孩子实在受不了给物业打了好几次电话说是热力公司的事热力公司又说是物业的事",
            "楼上装修电钻声太大了孩子上网课根本听不见中午午休时间也不停",
            "垃圾好几天没人清运了堆得比人还高味道很大夏天还招苍蝇",
        ];
        for t in texts {
            sig.absorb(&words(t));
        }
        assert!(sig.count as usize > K);
        for t in texts {
            let s = words(t).similarity(&sig);
            assert!(s > 0.6, "{s} {t}");
        }
        assert!(words("路灯不亮晚上黑咕隆咚").similarity(&sig) < 0.2);
    }

    #[test]
    fn absorb_makes_the_union() {
        let mut sig = Signature::of(&words("暖气不热"));
        sig.absorb(&words("暖气片冰凉"));
        assert_eq!(words("暖气片冰凉").similarity(&sig), 1.0);
        assert_eq!(words("暖气不热").similarity(&sig), 1.0);
        assert_eq!(sig.count, 6); // 暖气 气不 不热 气片 片冰 冰凉
    }

    #[test]
    fn english_words_make_word_bigrams() {
        let s = sim(
            "The water main burst on our street",
            "water main burst near the school",
        );
        assert!(s > 0.4, "{s}");
    }
}
