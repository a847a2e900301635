//! What a client could send, as proptest strategies for the property tests of the parsers
//! of client input: any text at all, and text that is almost what a parser wants.

use proptest::prelude::*;

/// Any text a client could send: ordinary and exotic Unicode, control characters, Unicode
/// whitespace, zero-width and direction-changing characters, and lengths far past any limit.
pub fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        2 => "\\PC{0,64}",
        2 => "[\\x00-\\x20\\x7f-\\u{a0}\\u{85}\\u{200b}-\\u{200f}\\u{2028}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}\\u{3164}\\u{feff}0-9a-z:.@=,-]{0,24}",
        1 => prop::collection::vec(any::<char>(), 0..4_096).prop_map(String::from_iter),
        1 => (any::<char>(), 0..20_000usize).prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
}

/// Characters that trip parsers up: whitespace of several kinds, control characters,
/// separators, multi-byte and right-to-left text, zero-width and direction-changing
/// characters.
fn awkward_char() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::sample::select(vec![
            ' ', '\t', '\n', '\r', '\0', '\u{7f}', '\u{85}', '\u{a0}', '\u{2028}', '\u{202e}',
            '\u{feff}', '\u{200b}', '\u{200d}', '\u{2066}', '\u{3164}', '.', '-', '_', ':', '@',
            '=', ',', '+', '%', '/', '"', '\'', 'é', 'İ', 'ß', '😀',
        ]),
        any::<char>(),
    ]
}

/// `valid` made almost valid: padded with whitespace, or with one character inserted,
/// removed or replaced (and sometimes left as it was).
pub fn near(valid: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (valid, 0..5u8, any::<prop::sample::Index>(), awkward_char()).prop_map(
        |(valid, edit, at, c)| {
            let mut chars: Vec<char> = valid.chars().collect();
            let i = at.index(chars.len() + 1);
            match edit {
                0 => return valid,
                1 => return format!("{c}{valid}{c}"),
                2 => chars.insert(i, c),
                3 if i < chars.len() => {
                    chars.remove(i);
                }
                _ if i < chars.len() => chars[i] = c,
                _ => chars.push(c),
            }
            chars.into_iter().collect()
        },
    )
}
