//! Facebook Login's server-side code flow, Facebook's half: the dialog's address, the code
//! exchange, the exchange for a long-lived token, and what the person granted.
//!
//! The dialog lives on www.facebook.com and the token endpoint on graph.facebook.com; in sandbox
//! mode both are this server's own (see `crate::sandbox::oauth`).

use serde::Deserialize;

use super::{FacebookError, GraphClient, client::AdAccount, errors::GraphErrorEnvelope};

/// What `/oauth/access_token` answers.
#[derive(Clone, Deserialize)]
pub struct TokenAnswer {
    pub access_token: String,
    /// Seconds; absent for a token that does not expire.
    #[serde(default)]
    pub expires_in: Option<i64>,
}

impl std::fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// The dialog's address with Facebook's parameters. `rerequest` asks again for permissions the
/// person declined before (Facebook otherwise does not show them again).
pub fn dialog_url(
    dialog: &str,
    app_id: &str,
    redirect_uri: &str,
    state: &str,
    scopes: &[&str],
    rerequest: bool,
) -> String {
    let scope = scopes.join(",");
    let mut q = vec![
        ("client_id", app_id),
        ("redirect_uri", redirect_uri),
        ("state", state),
        ("scope", scope.as_str()),
        ("response_type", "code"),
    ];
    if rerequest {
        q.push(("auth_type", "rerequest"));
    }
    format!(
        "{dialog}?{}",
        serde_urlencoded::to_string(&q).unwrap_or_default()
    )
}

/// `GET {graph}/oauth/access_token`: server to server, with the app secret.
async fn token_call(graph: &str, params: &[(&str, &str)]) -> Result<TokenAnswer, FacebookError> {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap_or_default();
    let res = http
        .get(format!(
            "{}/oauth/access_token",
            graph.trim_end_matches('/')
        ))
        .query(params)
        .send()
        .await
        .map_err(|e| FacebookError::transport(&e))?;
    let status = res.status().as_u16();
    let text = res.text().await.map_err(|e| FacebookError::transport(&e))?;
    if (200..300).contains(&status) {
        return serde_json::from_str(&text)
            .map_err(|e| FacebookError::decode("oauth/access_token", &e));
    }
    Err(match serde_json::from_str::<GraphErrorEnvelope>(&text) {
        Ok(envelope) => FacebookError::from_graph(envelope.error, status),
        Err(_) => FacebookError::unparsable(status, &text),
    })
}

/// Exchanges the dialog's `code`; `redirect_uri` must be byte-identical to the dialog's.
pub async fn exchange_code(
    graph: &str,
    app_id: &str,
    app_secret: &str,
    redirect_uri: &str,
    code: &str,
) -> Result<TokenAnswer, FacebookError> {
    token_call(
        graph,
        &[
            ("client_id", app_id),
            ("redirect_uri", redirect_uri),
            ("client_secret", app_secret),
            ("code", code),
        ],
    )
    .await
}

/// Exchanges a short-lived user token for a long-lived one (about 60 days).
pub async fn exchange_long_lived(
    graph: &str,
    app_id: &str,
    app_secret: &str,
    short_lived: &str,
) -> Result<TokenAnswer, FacebookError> {
    token_call(
        graph,
        &[
            ("grant_type", "fb_exchange_token"),
            ("client_id", app_id),
            ("client_secret", app_secret),
            ("fb_exchange_token", short_lived),
        ],
    )
    .await
}

/// What the person behind a new token granted: who they are, the permissions, the ad accounts.
#[derive(Debug, Clone)]
pub struct Granted {
    /// "Name (id)".
    pub user: String,
    pub granted: Vec<String>,
    pub declined: Vec<String>,
    pub ad_accounts: Vec<AdAccount>,
}

/// Reads `/me`, `/me/permissions` and `/me/adaccounts` with `client` (built on the new token).
pub async fn granted(client: &GraphClient) -> Result<Granted, FacebookError> {
    #[derive(Deserialize)]
    struct Me {
        id: String,
        #[serde(default)]
        name: Option<String>,
    }
    #[derive(Deserialize)]
    struct Permission {
        permission: String,
        status: String,
    }
    let me: Me = client.get_one("me", "id,name").await?;
    let permissions: Vec<Permission> = client.get_all("me/permissions", Vec::new()).await?;
    let (granted, declined): (Vec<_>, Vec<_>) =
        permissions.into_iter().partition(|p| p.status == "granted");
    let ad_accounts = super::FacebookClient::ad_accounts(client).await?;
    Ok(Granted {
        user: match me.name {
            Some(name) => format!("{name} ({})", me.id),
            None => me.id,
        },
        granted: granted.into_iter().map(|p| p.permission).collect(),
        // "expired" permissions count as not granted too; only "declined" is the person's choice.
        declined: declined
            .into_iter()
            .filter(|p| p.status == "declined")
            .map(|p| p.permission)
            .collect(),
        ad_accounts,
    })
}

/// What went wrong in the exchange, in words an admin can act on: Facebook's message, and what
/// to change where.
pub fn explain(err: &FacebookError, redirect_uri: &str) -> String {
    let what = match (err.code, err.subcode) {
        (101, _) => "Check the app id on Settings → Facebook (App settings → Basic on developers.facebook.com shows it).".to_owned(),
        (1, _) if err.message.contains("client secret") => "Check the app secret on Settings → Facebook (App settings → Basic on developers.facebook.com shows it).".to_owned(),
        (100, Some(36007 | 36009)) | (100, None) => "Click \"Connect with Facebook\" again.".to_owned(),
        (100, Some(36008)) | (191, _) => format!(
            "Add {redirect_uri} to Valid OAuth Redirect URIs (Facebook Login → Settings on developers.facebook.com), then connect again."
        ),
        _ => err.advice().to_owned(),
    };
    format!("Facebook refused the sign-in: {} {what}", err.message)
}
