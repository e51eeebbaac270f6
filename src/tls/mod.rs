//! Certificates as data: reading and checking what people upload or an ACME server issues
//! (`inspect`), explaining why an issue or renewal failed (`explain`), and the ACME client
//! itself (`acme`). Pure functions and transport; the actions live in `certificates/`.

pub mod acme;
pub mod dns;
pub mod explain;
pub mod inspect;
pub mod serve;
