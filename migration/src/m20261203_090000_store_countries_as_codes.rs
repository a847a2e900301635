use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Countries become ISO 3166-1 alpha-2 codes. Until now an address's country was free
/// text ("Netherlands", "the netherlands", "nl", "UK", "U.S.A.", "Deutschland"); from now
/// on the API takes and gives only codes ("NL", "GB", "US", "DE").
///
/// Each distinct stored value of `addresses.country` (address books) and
/// `orders.ship_country` (what orders shipped to) that names a country is replaced by its
/// code, by [`country_code`]: a code in any case, an alpha-3 code, an English name or
/// common alias (the `celes` crate's table), "UK", and the countries' own names for the
/// countries of Europe. A value that names no country, or more than one ("Korea"), is left
/// exactly as it was, nothing is guessed:
///
/// - in an order it is history: what the customer typed and the parcel was sent to. The
///   API shows it as it was.
/// - in an address book it stays too, so no customer loses an address: the API shows it
///   as it was, and checking out with that saved address is refused (BAD_USER_INPUT on
///   `shippingAddressId`) until the customer gives it a country with `updateAddress`.
///   Deleting the address, or guessing its country, would lose or misroute what the
///   customer wrote.
///
/// Only distinct values are looked at and rewritten (`UPDATE ... WHERE country = old`), so
/// the work grows with the number of different spellings, not of rows.
///
/// Going down leaves the codes: the previous release took any text, codes included.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, column) in [
            (Addresses::Table.into_iden(), Addresses::Country.into_iden()),
            (Orders::Table.into_iden(), Orders::ShipCountry.into_iden()),
        ] {
            let distinct = Query::select()
                .distinct()
                .column(column.clone())
                .from(table.clone())
                .to_owned();
            for row in db.query_all(&distinct).await? {
                let stored: String = row.try_get_by_index(0)?;
                let Some(code) = country_code(&stored) else {
                    continue;
                };
                if code == stored {
                    continue;
                }
                let rewrite = Query::update()
                    .table(table.clone())
                    .value(column.clone(), code)
                    .and_where(Expr::col(column.clone()).eq(stored))
                    .to_owned();
                db.execute(&rewrite).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

/// The alpha-2 code of the country that free text stored as a country names, if it names
/// exactly one; upper case.
///
/// Two or three letters (dots allowed: "U.K.", "u.s.a.") are read as a code: alpha-2 in any
/// case, "UK" (which ISO reserves for the United Kingdom, whose code is GB), or alpha-3.
/// Anything else is read as a name: case, accents, spaces and punctuation aside, an
/// English short or official name or alias from `celes` ("Netherlands", "The Netherlands",
/// "United Kingdom", "Great Britain", "Holland", "Russia"), or a name in [`OWN_NAMES`]
/// ("Deutschland", "Österreich"). Anything else is `None`: "Narnia", "N/A", "Korea".
pub fn country_code(stored: &str) -> Option<&'static str> {
    let text = stored.trim();
    let letters: String = text.chars().filter(|c| *c != '.').collect();
    if (2..=3).contains(&letters.len()) && letters.bytes().all(|b| b.is_ascii_alphabetic()) {
        let code = letters.to_ascii_lowercase();
        let country = match code.as_str() {
            "uk" => return Some("GB"),
            two if two.len() == 2 => celes::Country::from_alpha2(two),
            three => celes::Country::from_alpha3(three),
        };
        // A three-letter abbreviation that is no code may still be a name ("UAE").
        if let Ok(country) = country {
            return Some(country.alpha2);
        }
    }
    let key = name_key(text);
    if key.is_empty() {
        return None;
    }
    if let Some((_, code)) = OWN_NAMES.iter().find(|(name, _)| *name == key) {
        return Some(code);
    }
    let bare = key.strip_prefix("the").unwrap_or(&key);
    [
        celes::Country::from_name(&key),
        celes::Country::from_name(format!("the{bare}")),
        celes::Country::from_alias(&key),
        celes::Country::from_alias(bare),
        celes::Country::from_name(bare),
    ]
    .into_iter()
    .find_map(Result::ok)
    .map(|country| country.alpha2)
}

/// Names the `celes` table does not have: the countries of Europe in their own languages
/// (as a European customer would type them), with their common ASCII spellings, and a
/// few English ones. Keys are as [`name_key`] makes them.
const OWN_NAMES: &[(&str, &str)] = &[
    ("britain", "GB"),
    ("wales", "GB"),
    ("uae", "AE"),
    ("deutschland", "DE"),
    ("bundesrepublikdeutschland", "DE"),
    ("nederland", "NL"),
    ("koninkrijkdernederlanden", "NL"),
    ("belgie", "BE"),
    ("belgique", "BE"),
    ("belgien", "BE"),
    ("osterreich", "AT"),
    ("oesterreich", "AT"),
    ("schweiz", "CH"),
    ("suisse", "CH"),
    ("svizzera", "CH"),
    ("svizra", "CH"),
    ("espana", "ES"),
    ("italia", "IT"),
    ("luxemburg", "LU"),
    ("letzebuerg", "LU"),
    ("eire", "IE"),
    ("danmark", "DK"),
    ("sverige", "SE"),
    ("norge", "NO"),
    ("suomi", "FI"),
    ("polska", "PL"),
    ("cesko", "CZ"),
    ("ceskarepublika", "CZ"),
    ("slovensko", "SK"),
    ("slovenija", "SI"),
    ("hrvatska", "HR"),
    ("magyarorszag", "HU"),
    ("hellas", "GR"),
    ("ellada", "GR"),
    ("eesti", "EE"),
    ("latvija", "LV"),
    ("lietuva", "LT"),
    ("balgariya", "BG"),
    ("kypros", "CY"),
];

/// `text` as the tables' keys spell names: lower case, accents off the letters of the
/// Latin alphabet ("Österreich" -> "osterreich"), "&" as "and", and nothing but ASCII
/// letters and digits ("Bosnia & Herzegovina" -> "bosniaandherzegovina").
fn name_key(text: &str) -> String {
    let mut key = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'a'..='z' | '0'..='9' => key.push(c),
            '&' => key.push_str("and"),
            'ß' => key.push_str("ss"),
            'æ' => key.push_str("ae"),
            'œ' => key.push_str("oe"),
            _ => key.extend(unaccented(c)),
        }
    }
    key
}

/// The letter under an accented Latin letter; `None` for anything else.
fn unaccented(c: char) -> Option<char> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'ď' | 'đ' => 'd',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => 'i',
        'ł' | 'ľ' | 'ĺ' => 'l',
        'ñ' | 'ń' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
        'ř' => 'r',
        'ś' | 'š' | 'ș' | 'ş' => 's',
        'ț' | 'ţ' | 'ť' => 't',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => 'u',
        'ý' | 'ÿ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        _ => return None,
    })
}

#[derive(DeriveIden)]
enum Addresses {
    Table,
    Country,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    ShipCountry,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_in_any_case_become_upper_case_codes() {
        for (stored, code) in [
            ("NL", "NL"),
            ("nl", "NL"),
            (" gb ", "GB"),
            ("De", "DE"),
            ("U.S.", "US"),
            ("xk", "XK"),
        ] {
            assert_eq!(country_code(stored), Some(code), "{stored:?}");
        }
    }

    #[test]
    fn uk_and_alpha3_codes_become_alpha2_codes() {
        for (stored, code) in [
            ("UK", "GB"),
            ("u.k.", "GB"),
            ("USA", "US"),
            ("U.S.A.", "US"),
            ("usa", "US"),
            ("GBR", "GB"),
            ("nld", "NL"),
            ("DEU", "DE"),
        ] {
            assert_eq!(country_code(stored), Some(code), "{stored:?}");
        }
    }

    #[test]
    fn english_names_and_aliases_in_any_case_and_spacing_become_codes() {
        for (stored, code) in [
            ("Netherlands", "NL"),
            ("the netherlands", "NL"),
            ("The Netherlands", "NL"),
            ("Holland", "NL"),
            ("United Kingdom", "GB"),
            ("united kingdom", "GB"),
            ("Great Britain", "GB"),
            ("England", "GB"),
            ("Scotland", "GB"),
            ("Wales", "GB"),
            ("United States", "US"),
            ("United States of America", "US"),
            ("the United States of America", "US"),
            ("Germany", "DE"),
            ("  germany  ", "DE"),
            ("France", "FR"),
            ("Ireland", "IE"),
            ("Russia", "RU"),
            ("Czech Republic", "CZ"),
            ("Bosnia & Herzegovina", "BA"),
            ("Bosnia and Herzegovina", "BA"),
            ("Côte d'Ivoire", "CI"),
            ("South Korea", "KR"),
            ("UAE", "AE"),
        ] {
            assert_eq!(country_code(stored), Some(code), "{stored:?}");
        }
    }

    #[test]
    fn european_countries_own_names_become_codes() {
        for (stored, code) in [
            ("Deutschland", "DE"),
            ("Nederland", "NL"),
            ("Österreich", "AT"),
            ("Oesterreich", "AT"),
            ("Schweiz", "CH"),
            ("España", "ES"),
            ("Italia", "IT"),
            ("Belgique", "BE"),
            ("België", "BE"),
            ("Polska", "PL"),
            ("Éire", "IE"),
            ("Magyarország", "HU"),
        ] {
            assert_eq!(country_code(stored), Some(code), "{stored:?}");
        }
    }

    #[test]
    fn what_names_no_country_or_several_stays_unmapped() {
        for stored in [
            "Narnia",
            "",
            "   ",
            "N/A",
            "n.v.t.",
            "-",
            "826",
            "ZZ",
            "XYZ",
            "Korea",
            "Middle-earth",
            "Europe",
            "\u{212A}R",
        ] {
            assert_eq!(country_code(stored), None, "{stored:?}");
        }
    }

    #[test]
    fn every_alpha2_and_alpha3_code_and_long_name_maps_to_its_country() {
        for country in celes::Country::get_countries() {
            assert_eq!(country_code(country.alpha2), Some(country.alpha2));
            assert_eq!(country_code(country.alpha3), Some(country.alpha2));
            if country.alpha2 == "TW" {
                // celes spells it "Taiwan, Republic Of China" but looks up only "Taiwan".
                assert_eq!(country_code("Taiwan"), Some("TW"));
                continue;
            }
            assert_eq!(
                country_code(country.long_name),
                Some(country.alpha2),
                "{}",
                country.long_name
            );
        }
    }

    #[test]
    fn own_names_are_keys_and_name_real_codes() {
        for (name, code) in OWN_NAMES {
            assert_eq!(name_key(name), *name, "{name} is spelled as a key");
            assert!(celes::Country::from_alpha2(code).is_ok(), "{code}");
        }
    }
}
