//! Identifiers, parsed once where they enter.

use std::fmt;

/// A notice, purpose, status or lead identifier: 1 to 64 of `[A-Za-z0-9_-]`, the same rule
/// the receipt format applies to notice ids ([`consent_receipt::is_identifier`]). Safe to
/// put in a URL, a log line or a SQL `LIKE` pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ident(String);

/// Why a string is not an [`Ident`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} must be 1-64 of [A-Za-z0-9_-]")]
pub struct BadIdent {
    /// What the string was meant to be.
    pub what: &'static str,
}

impl Ident {
    /// Checks `s`; `what` names it in the error.
    pub fn parse(s: &str, what: &'static str) -> Result<Ident, BadIdent> {
        if consent_receipt::is_identifier(s) { Ok(Ident(s.to_string())) } else { Err(BadIdent { what }) }
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A notice id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NoticeId(Ident);

impl NoticeId {
    /// Checks a notice id.
    pub fn parse(s: &str) -> Result<NoticeId, BadIdent> {
        Ident::parse(s, "a notice id").map(NoticeId)
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for NoticeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A web origin, `scheme://host[:port]` as browsers serialise it in the `Origin` header
/// (lower-case host, no default port, IDN in punycode), http or https only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin(String);

/// Why a string is not an origin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadOrigin {
    /// Not an http(s) URL.
    #[error("`{0}` is not an http(s) URL such as https://shop.example")]
    NotHttp(String),
    /// A URL, but more than an origin.
    #[error("`{0}` must be an origin, scheme://host[:port], with no path or trailing slash (did you mean `{1}`?)")]
    NotAnOrigin(String, String),
}

impl Origin {
    /// The origin of an http(s) URL (a public URL, a page address).
    pub fn of_url(url: &str) -> Result<Origin, BadOrigin> {
        let shown = || url.chars().take(200).collect::<String>();
        let parsed = url::Url::parse(url).map_err(|_| BadOrigin::NotHttp(shown()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
            return Err(BadOrigin::NotHttp(shown()));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(BadOrigin::NotHttp(shown()));
        }
        Ok(Origin(parsed.origin().ascii_serialization()))
    }

    /// An origin written as one (`--allowed-origin`, a notice's `origins`): exactly
    /// `scheme://host[:port]`.
    pub fn parse(text: &str) -> Result<Origin, BadOrigin> {
        let origin = Origin::of_url(text)?;
        if origin.0 == text {
            Ok(origin)
        } else {
            Err(BadOrigin::NotAnOrigin(text.chars().take(200).collect(), origin.0))
        }
    }

    /// The serialised origin.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_checked_once() {
        assert_eq!(NoticeId::parse("newsletter").unwrap().as_str(), "newsletter");
        assert!(NoticeId::parse("").is_err());
        assert!(NoticeId::parse("a/b").is_err());
        assert!(Ident::parse(&"x".repeat(65), "a purpose").is_err());
        assert_eq!(
            Ident::parse("a b", "a purpose").unwrap_err().to_string(),
            "a purpose must be 1-64 of [A-Za-z0-9_-]"
        );
    }

    #[test]
    fn origins_read_like_browsers_write_them() {
        assert_eq!(Origin::of_url("https://Shop.Example/signup?x=1").unwrap().as_str(), "https://shop.example");
        assert_eq!(Origin::of_url("http://127.0.0.1:8080/").unwrap().as_str(), "http://127.0.0.1:8080");
        assert_eq!(Origin::of_url("https://shop.example:443").unwrap().as_str(), "https://shop.example");
        assert!(Origin::of_url("ftp://shop.example").is_err());
        assert!(Origin::of_url("https://user:pw@shop.example").is_err());
        assert!(Origin::of_url("shop.example").is_err());
    }

    #[test]
    fn an_origin_with_a_path_is_refused_naming_the_origin_meant() {
        assert!(Origin::parse("https://shop.example").is_ok());
        let e = Origin::parse("https://shop.example/signup").unwrap_err();
        assert!(e.to_string().contains("did you mean `https://shop.example`"), "{e}");
        assert!(Origin::parse("https://shop.example/").is_err());
    }
}
