//! Login, token refresh and the signed-in user's profile.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::Role;

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    /// Account name.
    pub username: String,
    /// Password (never logged).
    pub password: String,
    /// A stable id of the phone or browser, chosen by the client; revoking it signs that device out.
    pub device_id: String,
}

/// `POST /api/v1/auth/refresh` and `POST /api/v1/auth/logout`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    /// The refresh token from the last login or refresh; it is single-use.
    pub refresh_token: String,
}

/// Tokens issued by login and refresh.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    /// Short-lived JWT for `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Rotating refresh token bound to the device; each use returns a new one.
    pub refresh_token: String,
    /// When the refresh token expires.
    pub refresh_expires_at: DateTime<Utc>,
}

/// An officer's enforcement certificate (执法证).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Certificate {
    /// Certificate number.
    pub number: String,
    /// Last day on which it is valid.
    pub valid_until: NaiveDate,
}

/// A user as the API shows it (`GET /api/v1/me`, `GET /api/v1/users`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView {
    /// User id (UUIDv7).
    pub id: String,
    /// Account name.
    pub username: String,
    /// Name shown to others.
    pub display_name: String,
    /// Roles held.
    pub roles: Vec<Role>,
    /// Enforcement certificate, if any.
    pub certificate: Option<Certificate>,
    /// Whether the certificate is valid today.
    pub certificate_valid: bool,
    /// Disabled accounts cannot sign in.
    pub disabled: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A cell of the current grid the user serves in (网格员/网格长).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyCell {
    /// Cell code.
    pub code: String,
    /// Cell name (e.g. the village's).
    pub name: String,
    /// `town`, `area` or `village`.
    pub level: String,
    /// `grid_leader` or `grid_member`.
    pub role: String,
}

/// The signed-in user (`GET /api/v1/me`): the account and the cells they serve in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeView {
    /// The account.
    #[serde(flatten)]
    pub user: UserView,
    /// Cells of the current grid the user is a member or leader of, by code (an area or town
    /// membership covers its villages).
    #[serde(default)]
    pub cells: Vec<MyCell>,
    /// For a department's liaison: the department they act for.
    #[serde(default)]
    pub department: Option<MyDepartment>,
}

/// The department a liaison acts for.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyDepartment {
    /// Department id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its kind (`functional`, `police`, …).
    pub kind: String,
}

/// One signed-in device of a user.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceView {
    /// The client's device id.
    pub device_id: String,
    /// First sign-in on this device (of the current session).
    pub signed_in_at: DateTime<Utc>,
    /// Last token refresh.
    pub last_seen_at: DateTime<Utc>,
}

/// `PUT /api/v1/users/{id}/roles` (admin): the account's roles from now on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetRolesRequest {
    /// Roles, at least one; duplicates are ignored.
    pub roles: Vec<Role>,
}

/// `POST /api/v1/users/{id}/password` (admin): a new password for a user who forgot theirs;
/// the account is signed out everywhere.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetPasswordRequest {
    /// The new password, at least 8 characters.
    pub password: String,
}

/// `POST /api/v1/users` (admin).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewUserRequest {
    /// Account name: 3–32 of a–z, 0–9, `_`, `.`, `-`.
    pub username: String,
    /// Name shown to others.
    pub display_name: String,
    /// Initial password, at least 8 characters.
    pub password: String,
    /// Roles, at least one.
    pub roles: Vec<Role>,
    /// Enforcement certificate for officers.
    #[serde(default)]
    pub certificate: Option<Certificate>,
}
