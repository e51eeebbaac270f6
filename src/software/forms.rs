//! The software form (install, upgrade or remove one item) turned into domain values.

use serde::Deserialize;

use super::{Action, Item};
use crate::domain::{PhpVersion, Software};
use crate::error::{FieldError, FieldErrors};

/// The software form as submitted.
#[derive(Debug, Default, Deserialize)]
pub struct SoftwareForm {
    #[serde(default)]
    pub software: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub action: String,
}

impl Item {
    pub fn parse(software: &str, version: &str) -> Result<Item, FieldErrors> {
        let software: Software = software
            .parse()
            .map_err(|_| vec![FieldError::new("software", "choose software from the list")])?;
        match software {
            Software::Php => {
                let php = version
                    .parse::<PhpVersion>()
                    .map_err(|_| vec![FieldError::new("version", "choose a PHP version")])?;
                Ok(Item {
                    software,
                    php: Some(php),
                })
            }
            Software::Bun => Err(vec![FieldError::new(
                "software",
                "Bun is installed by the setup script, not as a package",
            )]),
            _ => Ok(Item {
                software,
                php: None,
            }),
        }
    }
}

/// Every field parsed (the first error of the item, and the action's).
pub fn parse(form: &SoftwareForm) -> Result<(Item, Action), FieldErrors> {
    let item = Item::parse(&form.software, &form.version);
    let action = match form.action.as_str() {
        "install" => Ok(Action::Install),
        "upgrade" => Ok(Action::Upgrade),
        "remove" => Ok(Action::Remove),
        _ => Err(FieldError::new("action", "install, upgrade or remove")),
    };
    match (item, action) {
        (Ok(i), Ok(a)) => Ok((i, a)),
        (item, action) => {
            let mut errors = item.err().unwrap_or_default();
            errors.extend(action.err());
            Err(errors)
        }
    }
}
