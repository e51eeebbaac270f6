//! SQL for a site's database. Names are `DbName`s (`[a-z][a-z0-9_]*`), safe as identifiers
//! unquoted; the password is the one value that can hold anything, so it goes through each
//! server's string-literal escaping and travels on stdin, never in a command line.

use crate::domain::{DatabaseType, DbName};
use crate::ssh::Command;

use super::{DbSpec, Probe};

/// A MariaDB string literal (backslash escapes are on by default there).
fn mariadb_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{1a}' => out.push_str("\\Z"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A PostgreSQL string literal (`standard_conforming_strings` is on: only `'` is special).
fn pg_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The client that runs SQL from stdin as the database superuser (root by socket on MariaDB,
/// `postgres` by peer authentication on PostgreSQL).
pub fn client(engine: DatabaseType) -> Command {
    match engine {
        DatabaseType::MariaDb => Command::new("mariadb")
            .sudo()
            .flag("--batch")
            .flag("--skip-column-names"),
        DatabaseType::PostgreSql => Command::new("psql")
            .sudo_as("postgres")
            .flag("-X")
            .flag("-q")
            .flag("-A")
            .flag("-t")
            .flag("-v")
            .flag("ON_ERROR_STOP=1")
            .flag("-d")
            .flag("postgres"),
    }
}

/// Passes when the database and its user exist.
pub fn exists(db: &DbSpec) -> Probe {
    let sql = match db.engine {
        DatabaseType::MariaDb => format!(
            "SELECT (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{name}')
     + (SELECT COUNT(*) FROM mysql.user WHERE User = '{user}' AND Host = 'localhost');\n",
            name = db.name,
            user = db.user
        ),
        DatabaseType::PostgreSql => format!(
            "SELECT (SELECT count(*) FROM pg_database WHERE datname = '{name}')
     + (SELECT count(*) FROM pg_roles WHERE rolname = '{user}');\n",
            name = db.name,
            user = db.user
        ),
    };
    Probe::output(client(db.engine), "2").stdin(sql, false)
}

/// Passes when the database or its user (either) exists.
pub fn any_exists(db: &DbSpec) -> Probe {
    Probe {
        expect: super::Expect::OneOf(vec!["1", "2"]),
        ..exists(db)
    }
}

/// Create the database and its user (or bring an existing pair back to this password), with
/// privileges on that database only.
pub fn create(db: &DbSpec, password: &str) -> String {
    match db.engine {
        DatabaseType::MariaDb => {
            let pw = mariadb_literal(password);
            format!(
                "CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '{user}'@'localhost' IDENTIFIED BY {pw};
ALTER USER '{user}'@'localhost' IDENTIFIED BY {pw};
GRANT ALL PRIVILEGES ON `{name}`.* TO '{user}'@'localhost';
FLUSH PRIVILEGES;
",
                name = db.name,
                user = db.user
            )
        }
        DatabaseType::PostgreSql => {
            let pw = pg_literal(password);
            format!(
                "SELECT 'CREATE ROLE {user} LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{user}')\\gexec
ALTER ROLE {user} WITH LOGIN PASSWORD {pw};
SELECT 'CREATE DATABASE {name} OWNER {user}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{name}')\\gexec
REVOKE ALL ON DATABASE {name} FROM PUBLIC;
GRANT ALL ON DATABASE {name} TO {user};
",
                name = db.name,
                user = db.user
            )
        }
    }
}

/// Set a new password for the user.
pub fn set_password(engine: DatabaseType, user: &DbName, password: &str) -> String {
    match engine {
        DatabaseType::MariaDb => format!(
            "ALTER USER '{user}'@'localhost' IDENTIFIED BY {};\nFLUSH PRIVILEGES;\n",
            mariadb_literal(password)
        ),
        DatabaseType::PostgreSql => format!(
            "ALTER ROLE {user} WITH PASSWORD {};\n",
            pg_literal(password)
        ),
    }
}

/// Drop the database and its user (already gone is fine).
pub fn drop(db: &DbSpec) -> String {
    match db.engine {
        DatabaseType::MariaDb => format!(
            "DROP DATABASE IF EXISTS `{name}`;\nDROP USER IF EXISTS '{user}'@'localhost';\n",
            name = db.name,
            user = db.user
        ),
        DatabaseType::PostgreSql => format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE);\nDROP ROLE IF EXISTS {user};\n",
            name = db.name,
            user = db.user
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_passwords_stay_inside_their_literal() {
        assert_eq!(
            mariadb_literal("'; DROP USER x; --"),
            "'\\'; DROP USER x; --'"
        );
        assert_eq!(mariadb_literal("\\"), "'\\\\'");
        assert_eq!(mariadb_literal("a\nb"), "'a\\nb'");
        assert_eq!(pg_literal("'; DROP ROLE x; --"), "'''; DROP ROLE x; --'");
        assert_eq!(pg_literal("\\$(id)"), "'\\$(id)'");
    }
}
