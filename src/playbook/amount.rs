//! Sizes written as a count or a percentage (`batch=2`, `batch="25%"`), used by rollouts.

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Amount {
    Count(u32),
    Percent(f64),
}

impl Amount {
    /// Parses `"25%"` (0–100, decimals allowed).
    pub fn parse_percent(text: &str) -> Result<Amount, String> {
        let number = text
            .strip_suffix('%')
            .ok_or_else(|| format!("`{text}` is not a percentage"))?;
        match number.trim().parse::<f64>() {
            Ok(p) if (0.0..=100.0).contains(&p) => Ok(Amount::Percent(p)),
            Ok(_) => Err(format!("`{text}` is outside 0%..100%")),
            Err(_) => Err(format!("`{text}` is not a percentage")),
        }
    }

    /// How many of `total` hosts this amount means. A percentage rounds down but never to
    /// zero when it is above 0%, so `batch="10%"` of 3 hosts still makes progress.
    pub fn of(self, total: usize) -> usize {
        match self {
            Amount::Count(n) => n as usize,
            Amount::Percent(p) => {
                let n = (total as f64 * p / 100.0).floor() as usize;
                if p > 0.0 { n.max(1) } else { n }
            }
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Amount::Count(n) => write!(f, "{n}"),
            Amount::Percent(p) => write!(f, "{p}%"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_parses_and_rounds_without_stalling() {
        assert_eq!(Amount::parse_percent("25%"), Ok(Amount::Percent(25.0)));
        assert!(Amount::parse_percent("25").is_err());
        assert!(Amount::parse_percent("120%").is_err());
        assert!(Amount::parse_percent("x%").is_err());
        assert_eq!(Amount::Percent(25.0).of(8), 2);
        assert_eq!(Amount::Percent(10.0).of(3), 1);
        assert_eq!(Amount::Percent(0.0).of(3), 0);
        assert_eq!(Amount::Count(2).of(10), 2);
    }
}
