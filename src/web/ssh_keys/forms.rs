//! Form bodies of the SSH key page, as the browser sends them.

use serde::Deserialize;

use crate::domain::KeyType;
use crate::error::FieldError;

#[derive(Debug, Default, Deserialize)]
pub struct GenerateForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub key_type: String,
}

impl GenerateForm {
    pub fn key_type(&self) -> Result<KeyType, FieldError> {
        self.key_type
            .parse()
            .map_err(|_| FieldError::new("key_type", "choose ED25519 or RSA"))
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub key: String,
}

/// What the page shows around its forms after a submission.
#[derive(Debug, Default)]
pub struct PageState {
    /// Which form the errors belong to, and its values to show again.
    pub generate: Option<(GenerateForm, Vec<FieldError>)>,
    pub import: Option<(ImportName, Vec<FieldError>)>,
    pub flash: Option<(Flash, String)>,
}

/// Only the name is echoed back after a failed import: the pasted key text may be a private key,
/// and it is never sent back to the browser.
#[derive(Debug, Default)]
pub struct ImportName(pub String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flash {
    Success,
    Error,
}
