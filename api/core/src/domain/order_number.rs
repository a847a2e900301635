/// A human-friendly order number: "SO-" and ten characters of Crockford base32 (no I, L,
/// O or U to misread), 50 random bits.
pub fn new_order_number() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut bits = rand::random::<u64>();
    let mut number = String::from("SO-");
    for _ in 0..10 {
        number.push(char::from(ALPHABET[(bits & 31) as usize]));
        bits >>= 5;
    }
    number
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_are_readable_and_distinct() {
        let a = new_order_number();
        assert!(a.starts_with("SO-") && a.len() == 13, "{a}");
        assert!(
            a[3..]
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        assert_ne!(a, new_order_number());
    }
}
