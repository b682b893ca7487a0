//! Organisations, users and roles as validated values.
//!
//! Every type here is constructed through `parse`, so a value that exists is valid
//! (parse, don't validate).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// What kind of body an organisation is. Stored as its lowercase name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OrgKind {
    /// A school.
    School,
    /// A school district (may hold several schools' frameworks).
    District,
    /// A university or college.
    University,
    /// An employer that recognises competencies.
    Employer,
}

impl OrgKind {
    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::School => "school",
            Self::District => "district",
            Self::University => "university",
            Self::Employer => "employer",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "school" => Ok(Self::School),
            "district" => Ok(Self::District),
            "university" => Ok(Self::University),
            "employer" => Ok(Self::Employer),
            _ => Err(DomainError::invalid(
                "kind",
                "must be one of school, district, university, employer",
            )),
        }
    }
}

/// A role a user holds in one organisation. A user may hold several roles in one organisation
/// and different roles in different organisations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    /// Manages the organisation: members, invitations, frameworks.
    Admin,
    /// Edits frameworks and (later) reviews evidence and issues credentials.
    Teacher,
    /// Reviews evidence against rubrics.
    Reviewer,
    /// Owns their own evidence, mastery and credentials.
    Learner,
}

impl Role {
    /// All roles, most powerful first.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Teacher, Role::Reviewer, Role::Learner];

    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Teacher => "teacher",
            Self::Reviewer => "reviewer",
            Self::Learner => "learner",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "admin" => Ok(Self::Admin),
            "teacher" => Ok(Self::Teacher),
            "reviewer" => Ok(Self::Reviewer),
            "learner" => Ok(Self::Learner),
            _ => Err(DomainError::invalid(
                "role",
                "must be one of admin, teacher, reviewer, learner",
            )),
        }
    }

    /// Whether this role may create, edit and retire frameworks and competencies.
    pub fn can_edit_registry(self) -> bool {
        matches!(self, Self::Admin | Self::Teacher)
    }

    /// Whether this role may manage members and invitations.
    pub fn can_manage_members(self) -> bool {
        matches!(self, Self::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An organisation's URL name: 2–63 characters of `a-z`, `0-9` and inner `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    /// Parses and checks a slug.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let ok_chars = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !(2..=63).contains(&s.len()) {
            return Err(DomainError::invalid("slug", "must be 2 to 63 characters"));
        }
        if !ok_chars || s.starts_with('-') || s.ends_with('-') {
            return Err(DomainError::invalid(
                "slug",
                "may contain only a-z, 0-9 and '-' (not at either end)",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The slug text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address, trimmed and lowercased. Only the shape is checked; the invitation link
/// proves the address works.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Parses an address: one `@` with text either side, no spaces, at most 254 bytes.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim().to_lowercase();
        let valid = s.len() <= 254
            && !s.chars().any(char::is_whitespace)
            && matches!(s.split_once('@'), Some((local, domain))
                if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
        if valid {
            Ok(Self(s))
        } else {
            Err(DomainError::invalid("email", "is not an e-mail address"))
        }
    }

    /// The address text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's or organisation's display name: 1–200 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    /// Parses a name for `field`.
    pub fn parse(field: &'static str, s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > 200 {
            return Err(DomainError::invalid(field, "must be 1 to 200 characters"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The name text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The password policy: 10 to 1024 characters. Length is what matters (NIST SP 800-63B §5.1.1);
/// the upper bound keeps hashing cost bounded.
pub fn check_password(password: &str) -> Result<(), DomainError> {
    let n = password.chars().count();
    if n < 10 {
        return Err(DomainError::invalid(
            "password",
            "must be at least 10 characters",
        ));
    }
    if password.len() > 1024 {
        return Err(DomainError::invalid(
            "password",
            "must be at most 1024 bytes",
        ));
    }
    Ok(())
}

impl TryFrom<String> for OrgKind {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, DomainError> {
        Self::parse(&s)
    }
}

impl TryFrom<String> for Role {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, DomainError> {
        Self::parse(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_accept_lowercase_words_and_reject_the_rest() {
        assert!(Slug::parse("lincoln-high").is_ok());
        for bad in ["", "a", "Lincoln", "-x", "x-", "a b", "é-school"] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(Email::parse(" A@B.org ").unwrap().as_str(), "a@b.org");
        for bad in ["", "a", "@b", "a@", "a b@c", "a@b@c"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn roles_round_trip_and_only_admins_manage_members() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        assert!(Role::parse("root").is_err());
        assert!(Role::Admin.can_manage_members());
        assert!(!Role::Teacher.can_manage_members());
        assert!(Role::Teacher.can_edit_registry());
        assert!(!Role::Learner.can_edit_registry());
    }

    #[test]
    fn short_passwords_are_rejected() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough password").is_ok());
    }
}
