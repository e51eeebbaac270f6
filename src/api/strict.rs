//! Request bodies held to the document's types. poem-openapi reads a JSON number or boolean
//! where a string is declared (and `null` for an optional field); the API promises that input
//! the document does not allow is refused, so the guard checks each JSON body's types against
//! the operation's schema first: strings are strings, integers integers, no `null` unless the
//! schema says so. Formats, lengths and patterns are poem-openapi's validators' job.

use serde_json::Value;

/// The request body schema of `method` on `path` (a concrete path, its ids matching `{…}`
/// segments), if the operation takes a JSON body.
pub fn body_schema<'d>(doc: &'d Value, method: &str, path: &str) -> Option<&'d Value> {
    let asked: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (_, item) = doc["paths"].as_object()?.iter().find(|(p, _)| {
        let segments: Vec<&str> = p.trim_matches('/').split('/').collect();
        segments.len() == asked.len()
            && segments
                .iter()
                .zip(&asked)
                .all(|(s, a)| s.starts_with('{') || s == a)
    })?;
    // poem-openapi names it `application/json; charset=utf-8`.
    let content = item.get(method.to_ascii_lowercase())?["requestBody"]["content"].as_object()?;
    content
        .iter()
        .find(|(kind, _)| kind.starts_with("application/json"))?
        .1
        .get("schema")
}

/// `Err(where and what)` when `value` does not have the types `schema` declares.
pub fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        let name = target.rsplit('/').next().unwrap_or_default();
        return match doc["components"]["schemas"].get(name) {
            Some(s) => check(doc, s, value, at),
            None => Ok(()),
        };
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        return all.iter().try_for_each(|s| check(doc, s, value, at));
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(()),
    };
    let fits = |t: &str| match t {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => true,
    };
    if !types.iter().any(|t| fits(t)) {
        let field = if at.is_empty() { "body" } else { at };
        return Err(format!("{field}: expected {}", types.join(" or ")));
    }
    match value {
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(doc, item_schema, item, &format!("{at}[{i}]"))?;
                }
            }
        }
        Value::Object(fields) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (name, v) in fields {
                    if let Some(s) = props.get(name) {
                        let at = if at.is_empty() {
                            name.clone()
                        } else {
                            format!("{at}.{name}")
                        };
                        check(doc, s, v, &at)?;
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_booleans_and_nulls_are_not_strings() {
        let doc: Value = serde_json::from_str(&super::super::openapi_document()).unwrap();
        let schema = body_schema(&doc, "POST", "/ssh-keys").expect("POST /ssh-keys takes JSON");
        let ok = serde_json::json!({"name": "deploy", "key_type": "ed25519"});
        assert!(check(&doc, schema, &ok, "").is_ok());
        for bad in [
            serde_json::json!({"name": -1.5, "key_type": "ed25519"}),
            serde_json::json!({"name": true, "key_type": "ed25519"}),
            serde_json::json!({"name": null, "key_type": "ed25519"}),
            serde_json::json!(["name"]),
        ] {
            assert!(check(&doc, schema, &bad, "").is_err(), "{bad}");
        }
        let site = body_schema(&doc, "POST", "/sites").unwrap();
        let aliases = serde_json::json!({"server_id": "x", "domain": "a.b", "aliases": ["ok", 5]});
        let e = check(&doc, site, &aliases, "").unwrap_err();
        assert!(e.starts_with("aliases[1]"), "{e}");
        assert!(body_schema(&doc, "POST", "/sites/01JD000000000000000000000A/suspend").is_none());
    }
}
