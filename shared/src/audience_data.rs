//! What the segment builder reads about the customer data: the reach of a segment, and the
//! catalog of events and properties. Plain DTOs; the server computes them.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::segment::Segment;

/// `POST /api/segments/estimate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EstimateRequest {
    pub segment: Segment,
    /// IANA zone the calendar dates and "last N days" are counted in; UTC when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// The instant to evaluate at; now when absent (tests and previews of a future run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Estimate {
    /// Profiles in the segment.
    pub reach: u64,
    /// All stored profiles.
    pub total_profiles: u64,
    /// Up to 10 members, lowest ids first.
    pub sample: Vec<ProfileSample>,
    pub took_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProfileSample {
    pub identity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
}

/// The type a property was first seen with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PropertyType {
    Text,
    Number,
    Boolean,
    Date,
    List,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PropertyInfo {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: PropertyType,
    /// The most frequent values (text profile properties only), most frequent first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub top_values: Vec<ValueCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValueCount {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventInfo {
    pub name: String,
    pub count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Timestamp>,
    pub properties: Vec<PropertyInfo>,
}

/// `GET /api/catalog`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Catalog {
    /// Most frequent first.
    pub events: Vec<EventInfo>,
    pub profile_properties: Vec<PropertyInfo>,
}
