//! The trained classifier: determinism, the file format's round trip and
//! its failure modes, and predictions that never panic.

use hotline_router::classify::model::{cross_validate, Model, ModelError, Trainer};
use proptest::prelude::*;

/// A small labelled set: three topics, varied wording.
fn small_set() -> Vec<(String, String)> {
    let heating = [
        "家里暖气片一直不热，屋里才十五度",
        "供暖都半个月了暖气还是冰凉的",
        "尊敬的领导：我们小区今年暖气温度一直不达标，老人孩子都冻感冒了",
        "热力公司说管道有问题，可是一直没人来修暖气",
        "暖气不热，打了好几次电话都说排队",
        "咨询一下今年供暖费什么时候交",
    ];
    let wages = [
        "老板拖欠我们三个月工资不发",
        "公司倒闭了，欠了我两万多元工资，人社局让我们去仲裁",
        "尊敬的领导：我在工厂上班，工资一直拖着不给，我们农民工太难了",
        "欠薪半年了，找劳动监察也没有结果",
        "离职后公司不结算最后一个月工资",
        "工资被克扣，加班费也没有",
    ];
    let noise = [
        "楼下饭馆晚上噪音太大，睡不着觉",
        "工地夜间施工，噪音扰民到凌晨两点",
        "广场舞音响声音太大了，影响休息",
        "隔壁KTV每天晚上吵到半夜",
        "您好，小区门口的商铺大喇叭一直在喊，太吵了",
        "夜里渣土车来回跑，轰鸣声不断",
    ];
    let mut out = Vec::new();
    for (label, texts) in [
        ("heating", heating),
        ("labor.wages", wages),
        ("env.noise", noise),
    ] {
        for t in texts {
            out.push((t.to_string(), label.to_string()));
        }
    }
    out
}

#[test]
fn training_is_deterministic_and_independent_of_thread_count() {
    let data = small_set();
    let a = Trainer::new()
        .seed(42)
        .train(data.clone())
        .unwrap()
        .to_bytes();
    let b = Trainer::new()
        .seed(42)
        .train(data.clone())
        .unwrap()
        .to_bytes();
    assert_eq!(a, b, "same data and seed must give the same file");
    // Without `replay` training runs on this thread alone; the shipped
    // model's test (classify_breadth) then checks it against rayon's.
    #[cfg(feature = "replay")]
    {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let c = pool.install(|| Trainer::new().seed(42).train(data).unwrap().to_bytes());
        assert_eq!(a, c, "one thread must give the same file as many");
    }
}

#[test]
fn save_and_load_round_trip() {
    let model = Trainer::new().train(small_set()).unwrap();
    let dir = std::env::temp_dir().join(format!("hotline-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.bin");
    model.save(&path).unwrap();
    let loaded = Model::load(&path).unwrap();
    assert_eq!(loaded, model);
    assert_eq!(loaded.to_bytes(), model.to_bytes());
    for (text, _) in small_set() {
        assert_eq!(
            loaded.predict(&text).probabilities(),
            model.predict(&text).probabilities()
        );
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(matches!(
        Model::load(dir.join("missing")),
        Err(ModelError::Io { .. })
    ));
}

#[test]
fn learns_the_small_set() {
    let model = Trainer::new().train(small_set()).unwrap();
    for (text, label) in small_set() {
        assert_eq!(model.label(model.predict(&text).label()), label, "{text}");
    }
    // Unseen wording, same topics.
    let p = model.predict("暖气片冰凉冰凉的");
    assert_eq!(model.label(p.label()), "heating");
    let e = model.evidence("暖气片冰凉冰凉的", p.label(), 3);
    assert!(e.iter().any(|g| g.gram.contains('暖')), "{e:?}");
}

#[test]
fn every_truncation_is_a_typed_error() {
    let bytes = Trainer::new().train(small_set()).unwrap().to_bytes();
    for len in 0..bytes.len() {
        let err = Model::from_bytes(&bytes[..len]).unwrap_err();
        assert!(
            matches!(
                err,
                ModelError::Truncated { .. } | ModelError::Checksum { .. } | ModelError::BadMagic
            ),
            "length {len}: {err:?}"
        );
    }
}

#[test]
fn every_flipped_byte_is_a_typed_error() {
    let bytes = Trainer::new().train(small_set()).unwrap().to_bytes();
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x5A;
        match Model::from_bytes(&bad) {
            Err(
                ModelError::BadMagic
                | ModelError::UnsupportedVersion { .. }
                | ModelError::Checksum { .. }
                | ModelError::Truncated { .. }
                | ModelError::Invalid { .. },
            ) => {}
            other => panic!("byte {i}: {other:?}"),
        }
    }
}

#[test]
fn a_newer_version_says_so() {
    let mut bytes = Trainer::new().train(small_set()).unwrap().to_bytes();
    bytes[8] = 9;
    assert!(matches!(
        Model::from_bytes(&bytes),
        Err(ModelError::UnsupportedVersion {
            found: 9,
            supported: 1
        })
    ));
}

#[test]
fn bad_training_input_is_refused() {
    assert!(Trainer::new()
        .train(Vec::<(String, String)>::new())
        .is_err());
    assert!(Trainer::new().train([("a", "x"), ("b", " ")]).is_err());
    assert!(Trainer::new().ngrams(4).train(small_set()).is_err());
    assert!(Trainer::new().hash_bits(40).train(small_set()).is_err());
    assert!(Trainer::new().c(-1.0).train(small_set()).is_err());
}

#[test]
fn cross_validation_scores_every_example_once() {
    let data = small_set();
    let e = cross_validate(&Trainer::new(), &data, 3, 7).unwrap();
    assert_eq!(e.total, data.len());
    assert!(e.accuracy >= 0.6, "{e}");
    assert!(cross_validate(&Trainer::new(), &data, 1, 7).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any labels, any texts: training either refuses with a typed error or
    /// gives a model whose predictions on any text are probabilities.
    #[test]
    fn predictions_never_panic_and_sum_to_one(
        examples in prop::collection::vec((".{0,40}", "[a-z.]{0,6}"), 0..24),
        probes in prop::collection::vec(".{0,200}", 1..8),
        n in 1u8..=3,
    ) {
        if let Ok(model) = Trainer::new().ngrams(n).hash_bits(12).train(examples) {
            let again = Model::from_bytes(&model.to_bytes()).unwrap();
            for text in probes {
                let p = again.predict(&text);
                let sum: f32 = p.probabilities().iter().sum();
                prop_assert!((sum - 1.0).abs() < 1e-3, "sum {}", sum);
                prop_assert!(p.probabilities().iter().all(|x| x.is_finite() && *x >= 0.0));
                prop_assert!(p.label() < again.labels().len());
            }
        }
    }

    /// Arbitrary bytes never panic the loader.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let mut with_magic = b"HLRMODEL\x01\x00\x00\x00".to_vec();
        with_magic.extend_from_slice(&bytes);
        let _ = Model::from_bytes(&bytes);
        let _ = Model::from_bytes(&with_magic);
    }
}

/// ASCII text has up to three n-grams a character, which a byte-based size
/// for the table of distinct n-grams once underestimated (a trigram model
/// looped on English messages); every n-gram known, every n from 1 to 3.
#[test]
fn texts_with_many_distinct_known_ngrams_predict() {
    // Train on the very texts we predict, so every n-gram is known.
    let texts: Vec<String> = (0..60u32)
        .map(|i| {
            (0..500u32)
                .map(|j| char::from(b'!' + ((i * 31 + j * 17 + j * j) % 94) as u8))
                .collect()
        })
        .collect();
    let data: Vec<(String, String)> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), ["a", "b", "c"][i % 3].to_string()))
        .collect();
    for n in 1..=3 {
        let model = Trainer::new()
            .ngrams(n)
            .hash_bits(20)
            .prune(0.0)
            .train(data.clone())
            .unwrap();
        for text in texts
            .iter()
            .map(String::as_str)
            .chain(["a", "ab", " a b c ", "aaaaaaaa"])
        {
            let p = model.predict(text);
            assert!((p.probabilities().iter().sum::<f32>() - 1.0).abs() < 1e-3);
        }
    }
}
