//! The SSH key forms (generate, import) as the browser sends them.

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
