//! Graph API errors: Facebook's error body, and what our code should do about each one.

use std::time::Duration;

use serde::Deserialize;

/// What the caller should do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Try again later (rate limits, transient outages, HTML 5xx pages).
    Retryable,
    /// The token is invalid or expired: someone must reconnect the Facebook account.
    NeedsReauth,
    /// The token works but lacks a permission or access to the object.
    Permission,
    /// The request itself is wrong; retrying the same request fails the same way.
    Invalid,
    /// Anything else (unknown codes, undecodable answers).
    Unexpected,
}

/// `{"error":{…}}` as Facebook sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct GraphErrorEnvelope {
    pub error: GraphErrorBody,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct GraphErrorBody {
    #[serde(default)]
    pub message: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub code: i64,
    #[serde(default)]
    pub error_subcode: Option<i64>,
    #[serde(default)]
    pub error_user_title: Option<String>,
    #[serde(default)]
    pub error_user_msg: Option<String>,
    #[serde(default)]
    pub is_transient: Option<bool>,
    #[serde(default)]
    pub fbtrace_id: Option<String>,
}

/// A failed Graph API call.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message} (Facebook error {code}{})", .subcode.map(|s| format!("/{s}")).unwrap_or_default())]
pub struct FacebookError {
    pub kind: ErrorKind,
    /// Facebook's code (0 when the answer was not a Graph error body).
    pub code: i64,
    pub subcode: Option<i64>,
    /// Facebook's own message, kept for the user (or ours for transport failures).
    pub message: String,
    /// Facebook's user-facing explanation, when it sends one.
    pub user_message: Option<String>,
    pub fbtrace_id: Option<String>,
    /// HTTP status of the answer, if there was one.
    pub status: Option<u16>,
    /// How long to wait before calling again, when Facebook says (rate limits).
    pub retry_after: Option<Duration>,
}

impl FacebookError {
    /// Classifies a Graph error body.
    pub fn from_graph(body: GraphErrorBody, status: u16) -> Self {
        let kind = classify(body.code, body.error_subcode, body.is_transient, status);
        Self {
            kind,
            code: body.code,
            subcode: body.error_subcode,
            message: body.message,
            user_message: body.error_user_msg.or(body.error_user_title),
            fbtrace_id: body.fbtrace_id,
            status: Some(status),
            retry_after: None,
        }
    }

    /// An answer that was not a Graph error body (an HTML error page, a proxy's text).
    pub fn unparsable(status: u16, body: &str) -> Self {
        let snippet: String = body.chars().take(200).collect();
        Self {
            kind: if status >= 500 || status == 429 {
                ErrorKind::Retryable
            } else {
                ErrorKind::Unexpected
            },
            code: 0,
            subcode: None,
            message: format!("Facebook answered HTTP {status} without an error body: {snippet}"),
            user_message: None,
            fbtrace_id: None,
            status: Some(status),
            retry_after: None,
        }
    }

    /// The request never got an answer (DNS, connect, timeout).
    pub fn transport(err: &reqwest::Error) -> Self {
        Self {
            kind: ErrorKind::Retryable,
            code: 0,
            subcode: None,
            message: format!("could not reach Facebook: {err}"),
            user_message: None,
            fbtrace_id: None,
            status: None,
            retry_after: None,
        }
    }

    /// A 2xx answer we could not decode.
    pub fn decode(what: &str, err: &serde_json::Error) -> Self {
        Self {
            kind: ErrorKind::Unexpected,
            code: 0,
            subcode: None,
            message: format!("unexpected answer from Facebook for {what}: {err}"),
            user_message: None,
            fbtrace_id: None,
            status: None,
            retry_after: None,
        }
    }

    /// An error our client raises before calling (e.g. a batch over the row limit).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Invalid,
            code: 0,
            subcode: None,
            message: message.into(),
            user_message: None,
            fbtrace_id: None,
            status: None,
            retry_after: None,
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.kind == ErrorKind::Retryable
    }

    /// Whether Facebook may have acted on the request although this is what came back: no
    /// answer at all (a timeout, a reset, a proxy giving up), or a server error (an HTML 5xx
    /// page, code 1 or 2 with a 5xx). Repeating such a request blindly can apply it twice — a
    /// second audience, a batch Facebook already has — so writes are not repeated by the
    /// client; the caller reads back what Facebook holds first. Throttling and "update in
    /// progress" answers are refusals before any work and are not ambiguous.
    pub fn maybe_applied(&self) -> bool {
        let throttled = matches!(self.code, 4 | 17 | 32 | 341 | 613 | 80000..=80014);
        let in_progress = self.code == 2650 && self.subcode == Some(1870145);
        self.kind == ErrorKind::Retryable
            && !throttled
            && !in_progress
            && self.status.is_none_or(|s| s >= 500)
    }

    /// Facebook's answer to a batch whose `batch_seq` it does not expect, e.g. one it already
    /// applied and received again: `(#100) session.batch_seq 10 out of order: expected 11`.
    pub fn is_out_of_order(&self) -> bool {
        self.code == 100 && self.message.contains("out of order")
    }

    /// In plain words, what the user should do.
    pub fn advice(&self) -> &'static str {
        match (self.kind, self.code) {
            (ErrorKind::Retryable, 4 | 17 | 341 | 613 | 80000..=80014) => {
                "Facebook is limiting how often we may call it; the sync will continue automatically once the limit resets."
            }
            (ErrorKind::Retryable, _) => {
                "Facebook had a temporary problem; the sync will be retried automatically."
            }
            (ErrorKind::NeedsReauth, _) => {
                "The connection to Facebook has expired or was revoked; reconnect the Facebook account in Settings."
            }
            (ErrorKind::Permission, 294) => {
                "The connected Facebook user needs the ads_management permission; reconnect and grant it."
            }
            (ErrorKind::Permission, _) => {
                "The connected Facebook user lacks access to this ad account or object; ask an admin of the ad account to grant it, then reconnect."
            }
            (ErrorKind::Invalid, 2650) => {
                "Facebook refused to update the audience; check the message, fix the audience or campaign, then run again."
            }
            (ErrorKind::Invalid, _) => {
                "Facebook rejected the request; check the message and the campaign's settings."
            }
            (ErrorKind::Unexpected, _) => {
                "Facebook answered in an unexpected way; try again, and report it if it persists."
            }
        }
    }
}

/// Maps Graph error codes to a kind (see the reference, §8).
pub fn classify(
    code: i64,
    subcode: Option<i64>,
    is_transient: Option<bool>,
    status: u16,
) -> ErrorKind {
    match code {
        1 | 2 | 4 | 17 | 32 | 341 | 613 | 80000..=80014 => ErrorKind::Retryable,
        102 | 104 | 190 => ErrorKind::NeedsReauth,
        10 | 200..=299 => ErrorKind::Permission,
        // 2650 with "update in progress" (replace running) clears by itself.
        2650 if subcode == Some(1870145) => ErrorKind::Retryable,
        3 | 100 | 368 | 2635 | 2650 | 2655 | 2656 => ErrorKind::Invalid,
        _ if is_transient == Some(true) => ErrorKind::Retryable,
        _ if status >= 500 => ErrorKind::Retryable,
        _ => ErrorKind::Unexpected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds() {
        assert_eq!(classify(2, None, Some(true), 500), ErrorKind::Retryable);
        assert_eq!(
            classify(80003, Some(2446079), None, 400),
            ErrorKind::Retryable
        );
        assert_eq!(classify(17, None, None, 400), ErrorKind::Retryable);
        assert_eq!(classify(190, Some(463), None, 400), ErrorKind::NeedsReauth);
        assert_eq!(classify(294, None, None, 403), ErrorKind::Permission);
        assert_eq!(classify(10, None, None, 403), ErrorKind::Permission);
        assert_eq!(classify(100, None, None, 400), ErrorKind::Invalid);
        assert_eq!(classify(2650, Some(1870147), None, 400), ErrorKind::Invalid);
        assert_eq!(
            classify(2650, Some(1870145), None, 400),
            ErrorKind::Retryable
        );
        assert_eq!(classify(999_999, None, None, 400), ErrorKind::Unexpected);
    }

    #[test]
    fn only_silence_and_server_errors_are_ambiguous() {
        let graph = |code, subcode, status| {
            FacebookError::from_graph(
                GraphErrorBody {
                    code,
                    error_subcode: subcode,
                    message: format!("(#{code}) …"),
                    ..GraphErrorBody::default()
                },
                status,
            )
        };
        assert!(FacebookError::unparsable(502, "<html>Bad gateway</html>").maybe_applied());
        assert!(graph(2, None, 500).maybe_applied());
        assert!(!graph(80003, Some(2446079), 400).maybe_applied());
        assert!(!graph(17, None, 400).maybe_applied());
        assert!(!graph(2650, Some(1870145), 400).maybe_applied());
        assert!(!graph(100, None, 400).maybe_applied());
        assert!(!graph(190, Some(463), 400).maybe_applied());
        let out_of_order = FacebookError::from_graph(
            GraphErrorBody {
                code: 100,
                message: "(#100) session.batch_seq 10 out of order: expected 11".into(),
                ..GraphErrorBody::default()
            },
            400,
        );
        assert!(out_of_order.is_out_of_order());
        assert!(!graph(100, None, 400).is_out_of_order());
    }

    #[test]
    fn html_5xx_is_retryable_and_keeps_a_snippet() {
        let e =
            FacebookError::unparsable(502, "<html><body>Sorry, something went wrong</body></html>");
        assert_eq!(e.kind, ErrorKind::Retryable);
        assert!(e.message.contains("502"));
        assert!(!e.advice().is_empty());
    }
}
