//! A site's custom nginx block: directives a site owner adds inside the site's own server block
//! (caching headers, a proxied path, extra locations). It is read the way nginx reads it
//! (words, quotes, `;`, braces, comments) and every directive is held to a list of what may
//! appear inside one site's server: nothing that reads or writes files elsewhere (`include`,
//! `root`/`alias` outside the site's home, log files, certificates), loads code (`load_module`,
//! Lua, Perl, njs), reaches another site's PHP (`fastcgi_pass` and friends, `unix:` sockets) or
//! defines servers. The reason a block is refused names the directive and its line.
//!
//! The block must read the same to this checker as to nginx, so everything where the two could
//! disagree is refused rather than interpreted: backslashes, characters outside ASCII, a quote
//! that does not start a word or is not followed by a separator, a brace touching a word, `${`.
//! Paths may not climb (`..`), and the directives that name files or addresses take no
//! variables (a request could choose them).

/// The longest block accepted.
pub const MAX_BLOCK: usize = 8000;

/// Directives a block may hold (with their arguments checked where they name paths).
const ALLOWED: &[&str] = &[
    "location",
    "add_header",
    "expires",
    "try_files",
    "rewrite",
    "return",
    "set",
    "break",
    "error_page",
    "internal",
    "index",
    "autoindex",
    "charset",
    "default_type",
    "etag",
    "if_modified_since",
    "client_max_body_size",
    "client_body_timeout",
    "keepalive_timeout",
    "send_timeout",
    "gzip",
    "gzip_types",
    "gzip_min_length",
    "gzip_vary",
    "gzip_comp_level",
    "gzip_proxied",
    "sub_filter",
    "sub_filter_once",
    "sub_filter_types",
    "allow",
    "deny",
    "limit_except",
    "auth_basic",
    "log_not_found",
    "access_log",
    "proxy_pass",
    "proxy_set_header",
    "proxy_http_version",
    "proxy_read_timeout",
    "proxy_connect_timeout",
    "proxy_send_timeout",
    "proxy_buffering",
    "proxy_redirect",
    "proxy_hide_header",
    "proxy_pass_header",
    "fastcgi_param",
    "fastcgi_read_timeout",
    "fastcgi_buffers",
    "fastcgi_buffer_size",
    "root",
];

/// A checked block, kept as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NginxBlock(String);

#[derive(Debug, PartialEq)]
enum Token {
    Word(String, usize),
    Semi(usize),
    Open(usize),
    Close(usize),
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_ascii_whitespace() => {}
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            ';' => out.push(Token::Semi(line)),
            '{' => out.push(Token::Open(line)),
            '}' => out.push(Token::Close(line)),
            '"' | '\'' => {
                let mut word = String::new();
                let mut closed = false;
                for d in chars.by_ref() {
                    if d == c {
                        closed = true;
                        break;
                    }
                    if d == '\n' {
                        line += 1;
                    }
                    word.push(d);
                }
                if !closed {
                    return Err(format!("line {line}: a quote is not closed"));
                }
                // nginx wants a separator after a quoted word.
                if chars
                    .peek()
                    .is_some_and(|d| !(d.is_ascii_whitespace() || matches!(d, ';' | '{' | '}')))
                {
                    return Err(format!(
                        "line {line}: a quoted word must be followed by a space, `;` or a brace"
                    ));
                }
                out.push(Token::Word(word, line));
            }
            c => {
                let mut word = c.to_string();
                while let Some(&d) = chars.peek() {
                    if d.is_ascii_whitespace() || matches!(d, ';' | '{') {
                        break;
                    }
                    // To nginx a quote or a `}` inside a word is part of the word.
                    if matches!(d, '"' | '\'' | '}') {
                        return Err(format!(
                            "line {line}: `{d}` inside a word (put a space before it, or quote the whole word)"
                        ));
                    }
                    word.push(d);
                    chars.next();
                }
                out.push(Token::Word(word, line));
            }
        }
    }
    Ok(out)
}

impl NginxBlock {
    /// Check `text` for a site whose home is `home`.
    pub fn parse(text: &str, home: &str) -> Result<Option<Self>, String> {
        let text = text.replace("\r\n", "\n");
        if text.trim().is_empty() {
            return Ok(None);
        }
        if text.len() > MAX_BLOCK {
            return Err(format!("at most {MAX_BLOCK} characters"));
        }
        if let Some(c) = text
            .chars()
            .find(|c| !c.is_ascii() || (c.is_ascii_control() && *c != '\n' && *c != '\t'))
        {
            return Err(format!(
                "`{}` cannot be in a block (ASCII only, no control characters)",
                c.escape_debug()
            ));
        }
        if text.contains('\\') {
            return Err("no backslashes (nginx and the panel could read them differently)".into());
        }
        if text.contains("${") {
            return Err("no `${…}` (write variables as $name)".into());
        }
        let toks = tokens(&text)?;
        let mut i = 0;
        check_statements(&toks, &mut i, home, 0)?;
        if i < toks.len() {
            let line = match &toks[i] {
                Token::Word(_, l) | Token::Semi(l) | Token::Open(l) | Token::Close(l) => *l,
            };
            return Err(format!(
                "line {line}: a `}}` closes a block that was not opened"
            ));
        }
        Ok(Some(Self(text.trim_end().to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Statements up to the end, or up to the `}` closing the block at `depth`.
fn check_statements(toks: &[Token], i: &mut usize, home: &str, depth: usize) -> Result<(), String> {
    while *i < toks.len() {
        let (name, line) = match &toks[*i] {
            Token::Close(_) if depth > 0 => return Ok(()),
            Token::Close(l) => {
                return Err(format!(
                    "line {l}: a `}}` closes a block that was not opened"
                ));
            }
            Token::Semi(l) | Token::Open(l) => {
                return Err(format!("line {l}: a directive's name is missing"));
            }
            Token::Word(w, l) => (w.clone(), *l),
        };
        *i += 1;
        let mut args = Vec::new();
        loop {
            match toks.get(*i) {
                Some(Token::Word(w, _)) => {
                    args.push(w.clone());
                    *i += 1;
                }
                Some(Token::Semi(_)) => {
                    *i += 1;
                    check_directive(&name, &args, line, home, false)?;
                    break;
                }
                Some(Token::Open(_)) => {
                    *i += 1;
                    check_directive(&name, &args, line, home, true)?;
                    check_statements(toks, i, home, depth + 1)?;
                    match toks.get(*i) {
                        Some(Token::Close(_)) => *i += 1,
                        _ => {
                            return Err(format!("line {line}: the `{{` of `{name}` is not closed"));
                        }
                    }
                    break;
                }
                Some(Token::Close(l)) => {
                    return Err(format!("line {l}: `{name}` needs a `;` before the `}}`"));
                }
                None => return Err(format!("line {line}: `{name}` needs a `;` at its end")),
            }
        }
    }
    Ok(())
}

fn check_directive(
    name: &str,
    args: &[String],
    line: usize,
    home: &str,
    block: bool,
) -> Result<(), String> {
    let refuse = |why: &str| Err(format!("line {line}: `{name}` is refused: {why}"));
    if !ALLOWED.contains(&name) {
        let why = match name {
            "include" => "it reads files from outside the site",
            "load_module" => "it loads code into nginx",
            "server" | "listen" | "server_name" => "the block sits inside the site's own server",
            n if n.contains("lua") || n.starts_with("perl") || n.starts_with("js_") => {
                "it runs code inside nginx"
            }
            n if n.ends_with("_pass") => "it could reach another site's PHP or a local service",
            n if n.starts_with("ssl_") || n == "error_log" || n.ends_with("_file") => {
                "it reads or writes files outside the site"
            }
            _ => "it is not one a site's block may hold",
        };
        return refuse(why);
    }
    if args.iter().any(|a| a.contains("..")) {
        return refuse("no argument may climb out of a directory (`..`)");
    }
    let names_a_path = matches!(
        name,
        "root" | "try_files" | "rewrite" | "index" | "error_page" | "proxy_pass"
    );
    if names_a_path && args.iter().any(|a| a.contains('$')) {
        return refuse(
            "it names a file or an address, which a request must not choose ($variables)",
        );
    }
    let takes_block = matches!(name, "location" | "limit_except");
    if takes_block != block {
        return refuse(if block {
            "it takes no `{ … }` block"
        } else {
            "it needs a `{ … }` block"
        });
    }
    match name {
        "root" => {
            let path = args.first().map(String::as_str).unwrap_or("");
            let inside = path.starts_with(&format!("{home}/")) || path == home;
            if args.len() != 1 || !inside {
                return refuse(&format!(
                    "it may only name a directory inside the site's home ({home}/…)"
                ));
            }
        }
        "access_log" if args.first().map(String::as_str) != Some("off") => {
            return refuse("only `access_log off;` (the site's access log is the panel's)");
        }
        "proxy_pass" => {
            let to = args.first().map(String::as_str).unwrap_or("");
            let rest = to
                .strip_prefix("http://127.0.0.1:")
                .or_else(|| to.strip_prefix("http://[::1]:"));
            let port_ok = rest.is_some_and(|r| {
                let port = r.split('/').next().unwrap_or("");
                port.parse::<u16>().is_ok_and(|p| p > 0)
            });
            if args.len() != 1 || !port_ok {
                return refuse(
                    "only to an application on this server: http://127.0.0.1:PORT or http://[::1]:PORT (a name's address is looked up at every start; a unix: socket could be another site's)",
                );
            }
        }
        "client_max_body_size" if args.first().map(String::as_str) == Some("0") => {
            return refuse("0 (no limit) would let one site fill the server's disk");
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: &str = "/home/web3";

    fn why(text: &str) -> String {
        NginxBlock::parse(text, HOME).unwrap_err()
    }

    #[test]
    fn ordinary_blocks_pass() {
        let block = "# cache static files\nlocation ~* [.](css|js)$ {\n    expires 30d;\n    add_header Cache-Control \"public\";\n}\nlocation /api/ {\n    proxy_pass http://127.0.0.1:3000;\n    proxy_set_header Host $host;\n}\nlocation /files/ {\n    root /home/web3/storage;\n}\nreturn 301 https://$host$request_uri;\n";
        assert!(NginxBlock::parse(block, HOME).unwrap().is_some());
        assert_eq!(NginxBlock::parse("  \n", HOME), Ok(None));
    }

    #[test]
    fn what_would_escape_the_site_is_refused_with_its_line() {
        assert!(why("root /;").contains("line 1: `root` is refused"));
        assert!(why("\nlocation /x {\n  alias /home/web3/;\n}").contains("line 3: `alias`"));
        assert!(why("root /home/web3/../web4;").contains("`..`"));
        assert!(why("root /home/web3$x;").contains("`root` is refused"));
        assert!(why("try_files $arg_f =404;").contains("$variables"));
        assert!(why("if (-f /home/web4/.env) { return 200; }").contains("`if` is refused"));
        assert!(why("proxy_pass http://backend.example;").contains("127.0.0.1"));
        assert!(why("client_max_body_size 0;").contains("fill the server"));
        // Where nginx and a naive reader would part ways: refused, not interpreted.
        assert!(why("add_header X-A a\"; location /p/ { fastcgi_pass unix:/run/php-fpm/web4.sock; } #\";").contains("inside a word"));
        assert!(why("add_header X b\u{a0}# ; include /etc/shadow;").contains("ASCII only"));
        assert!(
            why("add_header X a}; include /etc/shadow; location / {").contains("inside a word")
        );
        assert!(why("add_header X \\\"; include x; #").contains("backslashes"));
        assert!(why("add_header X \"a\"b;").contains("followed by"));
        assert!(why("include /etc/nginx/nginx.conf;").contains("reads files from outside"));
        assert!(why("load_module x.so;").contains("loads code"));
        assert!(why("location / { content_by_lua_block { ngx.say(1); } }").contains("runs code"));
        assert!(
            why("location ~ [.]php$ { fastcgi_pass unix:/run/php-fpm/web4.sock; }")
                .contains("another site's PHP")
        );
        assert!(why("proxy_pass http://unix:/run/php-fpm/web4.sock;").contains("127.0.0.1"));
        assert!(why("access_log /tmp/x.log;").contains("only `access_log off;`"));
        assert!(why("server { listen 81; }").contains("inside the site's own server"));
        assert!(
            why("ssl_certificate_key /etc/nginx/panel-tls/web4.key;").contains("outside the site")
        );
        assert!(why("root \"/\";").contains("`root` is refused"));
    }

    #[test]
    fn broken_syntax_is_named() {
        assert!(why("expires 30d").contains("needs a `;`"));
        assert!(why("location / { expires 1d;").contains("is not closed"));
        assert!(why("}").contains("not opened"));
        assert!(why("add_header X \"y;").contains("quote is not closed"));
        assert!(why("location /;").contains("needs a `{ … }` block"));
        assert!(why("expires 1d { }").contains("takes no"));
    }
}
