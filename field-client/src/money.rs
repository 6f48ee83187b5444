//! Amounts as a technician types them ("120.50") turned into the currency's minor unit, the
//! way the job document stores them. Integer arithmetic only: no float ever touches money.

use crate::error::ClientError;

/// Decimals of the currency's minor unit: 2 (fen, cents) except for the common zero-decimal ones.
pub fn minor_unit_decimals(currency: &str) -> u32 {
    match currency.trim().to_ascii_uppercase().as_str() {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" => 0,
        _ => 2,
    }
}

/// Parses `input` ("120", "120.5", "120.50") into minor units of `currency`. Zero and negative
/// amounts parse; the job document refuses them with its own message.
pub fn parse_amount(input: &str, currency: &str) -> Result<i64, ClientError> {
    let decimals = minor_unit_decimals(currency);
    let invalid = || ClientError::InvalidAmount {
        input: input.to_owned(),
        decimals,
    };
    // A Chinese input method types full-width digits and points ("１２０．５０", "120。50").
    let normal: String = input
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => {
                char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')).unwrap_or(c)
            }
            '．' | '。' => '.',
            '－' => '-',
            other => other,
        })
        .collect();
    let text = normal.trim();
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > decimals as usize
    {
        return Err(invalid());
    }
    if text.contains('.') && fraction.is_empty() {
        return Err(invalid());
    }
    let scale = 10_i64.pow(decimals);
    let whole: i64 = whole.parse().map_err(|_| invalid())?;
    let padded = format!("{fraction:0<width$}", width = decimals as usize);
    let fraction: i64 = if padded.is_empty() {
        0
    } else {
        padded.parse().map_err(|_| invalid())?
    };
    let minor = whole
        .checked_mul(scale)
        .and_then(|m| m.checked_add(fraction))
        .ok_or_else(invalid)?;
    Ok(if negative { -minor } else { minor })
}

/// Formats minor units back for display ("120.50 CNY").
pub fn format_amount(minor: i64, currency: &str) -> String {
    let decimals = minor_unit_decimals(currency);
    if decimals == 0 {
        return format!("{minor} {currency}");
    }
    let scale = 10_i64.pow(decimals);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let scale = scale.unsigned_abs();
    format!(
        "{sign}{}.{:0width$} {currency}",
        abs / scale,
        abs % scale,
        width = decimals as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_amounts_in_minor_units() {
        assert_eq!(parse_amount("120.50", "CNY").unwrap(), 12_050);
        assert_eq!(parse_amount("120.5", "cny").unwrap(), 12_050);
        // As a Chinese input method types them.
        assert_eq!(parse_amount("１２０．５０", "CNY").unwrap(), 12_050);
        assert_eq!(parse_amount("120。5", "CNY").unwrap(), 12_050);
        assert_eq!(parse_amount("120", "CNY").unwrap(), 12_000);
        assert_eq!(parse_amount("0.07", "EUR").unwrap(), 7);
        assert_eq!(parse_amount("1500", "JPY").unwrap(), 1_500);
        assert_eq!(parse_amount("-3", "CNY").unwrap(), -300);
    }

    #[test]
    fn refuses_what_is_not_an_amount() {
        for bad in [
            "",
            "12.",
            ".5",
            "1.234",
            "12,50",
            "abc",
            "1e3",
            "99999999999999999999",
        ] {
            assert!(parse_amount(bad, "CNY").is_err(), "{bad}");
        }
        assert!(parse_amount("15.5", "JPY").is_err());
    }

    #[test]
    fn formats_back() {
        assert_eq!(format_amount(12_050, "CNY"), "120.50 CNY");
        assert_eq!(format_amount(7, "EUR"), "0.07 EUR");
        assert_eq!(format_amount(1_500, "JPY"), "1500 JPY");
    }
}
