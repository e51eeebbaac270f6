//! Display names people give things in the panel (keys, servers). Free text, but bounded and
//! without control characters, so they render on one line in the UI, logs and CLI tables.

/// The name of an SSH key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyName(String);

impl KeyName {
    pub const MAX: usize = 100;

    pub fn parse(text: &str) -> Result<Self, String> {
        let name = text.trim();
        if name.is_empty() {
            return Err("give the key a name".into());
        }
        if name.chars().count() > Self::MAX {
            return Err(format!("at most {} characters", Self::MAX));
        }
        if name.chars().any(char::is_control) {
            return Err("no line breaks or control characters".into());
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A form of the name safe as an SSH key comment (one token, printable ASCII).
    pub fn as_comment(&self) -> String {
        let c: String = self
            .0
            .chars()
            .map(|c| if c.is_ascii_graphic() { c } else { '-' })
            .collect();
        format!("panel:{c}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_single_line() {
        assert_eq!(KeyName::parse("  deploy ").unwrap().as_str(), "deploy");
        assert!(KeyName::parse("").is_err());
        assert!(KeyName::parse(&"x".repeat(10_000)).is_err());
        assert!(KeyName::parse("a\nb").is_err());
        assert!(KeyName::parse("a\u{1b}[31m").is_err());
        assert_eq!(
            KeyName::parse("my key ü").unwrap().as_comment(),
            "panel:my-key--"
        );
    }
}
