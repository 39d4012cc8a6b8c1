//! `core::json::parse` (our reader) against `serde_json::from_str`: the same value or the same
//! refusal, over every vector, the fixtures and edge cases, and random numbers and text.

use onboarding_core as core;

/// `core::json::parse` and `serde_json::from_str` agree: both refuse, or both give the same
/// value (compared as text too, so `-0.0` and `0.0` or `1` and `1.0` count as different).
#[track_caller]
fn reads_alike(text: &str) {
    let ours = core::json::parse(text);
    let serde = serde_json::from_str::<serde_json::Value>(text);
    match (&ours, &serde) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "{text:?}");
            assert_eq!(
                core::to_json(a),
                serde_json::to_string(b).unwrap(),
                "{text:?}"
            );
        }
        (Err(_), Err(_)) => {}
        _ => panic!("{text:?}: ours {ours:?}, serde_json {serde:?}"),
    }
}

#[test]
fn the_reader_agrees_with_serde_json_on_the_vectors_and_at_the_edges() {
    let root = crate::helpers::repo_root();
    for dir in ["tests/vectors", "tests/fixtures"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).unwrap();
                reads_alike(&text);
                assert!(core::json::parse(&text).is_ok(), "{}", path.display());
            }
        }
    }
    let numbers = [
        "0",
        "-0",
        "-0.0",
        "0.0",
        "1",
        "-1",
        "1.0",
        "1e2",
        "1E+2",
        "1e-2",
        "0.1",
        "-0.25e-2",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "184467440737095516159.5",
        "1844674407370955161.63e5",
        "18446744073709551615.9",
        "1844674407370955161",
        "1844674407370955161.61",
        "1844674407370955161.609e1",
        "18446744073709551619.61",
        "18446744073709551615123.456e-3",
        "1.7976931348623157e308",
        "1.8e308",
        "-1.8e308",
        "5e-324",
        "2.4703282292062327e-324",
        "1e-400",
        "-1e-400",
        "1e400",
        "123456789012345678901234567890e-10",
        "1e2147483647",
        "1e2147483648",
        "0e2147483648",
        "-0e99999999999",
        "1e-2147483649",
        "0.000001e310",
        "100000000000000000000000000000e-330",
        "9007199254740993",
        "4.35",
        "1e22",
        "1e23",
        ".5",
        "01",
        "-01",
        "1.",
        "-",
        "+1",
        "1e",
        "1e+",
        "--1",
        "1.5e3.2",
        "0x10",
        "1_0",
        "Infinity",
        "NaN",
        "-e5",
        "2.",
        "3e",
        "00.1",
    ];
    for n in numbers {
        reads_alike(n);
        reads_alike(&format!("[{n}]"));
        reads_alike(&format!("{{\"k\": {n} }}"));
    }
    let others = [
        "",
        " ",
        "null",
        "nul",
        "true",
        "tru",
        "false",
        "[]",
        "{}",
        "[1,]",
        "{\"a\":1,}",
        "[1 2]",
        "{\"a\" 1}",
        "{1:2}",
        "{\"a\":1}x",
        " [ ] ",
        "\t{\"a\" :\n[ true , null ] }\r",
        r#""\"\\\/\b\f\n\r\t""#,
        r#""\u00e9\u0041\u20ac""#,
        r#""\ud83d\ude00""#,
        r#""\ud83d""#,
        r#""\ude00""#,
        r#""\ud83dx""#,
        r#""\ud83d\u0041""#,
        r#""\ud83d\n""#,
        r#""\u12""#,
        r#""\x41""#,
        "\"a\u{1}b\"",
        "\"a\u{7f}b\"",
        "\"é😀\"",
        "\"unterminated",
        "\"\\",
        r#"{"a":1,"a":2}"#,
        r#"{"b":1,"a":{"c":[1,{"d":null}]}}"#,
        "[[[]]]",
        "[\"a\"]]",
        "\u{feff}{}",
        "{\"a\":1}{}",
        "[1]\n",
        "[-]",
        "[1e]",
        "{\"a\"}",
        "{\"a\":}",
    ];
    for t in others {
        reads_alike(t);
    }
    for depth in [126, 127, 128, 129, 300] {
        reads_alike(&format!("{}{}", "[".repeat(depth), "]".repeat(depth)));
        reads_alike(&format!(
            "{}1{}",
            "{\"a\":".repeat(depth),
            "}".repeat(depth)
        ));
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

    #[test]
    fn the_reader_agrees_with_serde_json_on_random_numbers(n in "-?[0-9]{0,25}(\\.[0-9]{0,25})?([eE][-+]?[0-9]{0,12})?") {
        reads_alike(&n);
        reads_alike(&format!("[{n},{n}]"));
    }

    #[test]
    fn the_reader_agrees_with_serde_json_on_random_text(
        pieces in proptest::collection::vec(proptest::sample::select(vec![
            "{", "}", "[", "]", ",", ":", " ", "\n", "\"", "\\", "\\u", "d83d", "de00", "00e9",
            "\\n", "a", "é", "😀", "\u{1}", "null", "true", "fals", "0", "-", "1", "9.5", "e", "E+3",
            ".", "\"k\"", "\"k\":", "18446744073709551616", "-9223372036854775809", "1e308",
        ]), 0..40)
    ) {
        reads_alike(&pieces.concat());
    }
}
