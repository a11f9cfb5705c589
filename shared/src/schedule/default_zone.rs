//! The time zone a new schedule starts in. Facebook reports a campaign's stats by day in its ad
//! account's time zone, so a schedule in the same zone lines its runs up with those days: the
//! wizard's When step starts from the ad account chosen in the What step, else from the first
//! connected ad account, and only then from the browser's zone. The user can always pick another.

/// An ad account as the pickers list it, with its time zone (`timezone_name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountZone {
    pub id: String,
    pub name: String,
    pub time_zone: String,
}

/// Where the default zone came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZoneSource {
    /// The ad account chosen in the What step.
    ChosenAccount { name: String },
    /// No ad account chosen yet: the first one the connection can use.
    FirstAccount { name: String },
    /// No ad account known (or none with a zone): the browser's.
    Browser,
}

/// A default time zone and why it is the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultZone {
    pub time_zone: String,
    pub source: ZoneSource,
}

impl DefaultZone {
    /// The hint under the time zone picker.
    pub fn explain(&self) -> String {
        match &self.source {
            ZoneSource::ChosenAccount { name } => format!(
                "Defaulted to the time zone of the campaign's ad account, {name} (Facebook reports its stats by day in it)."
            ),
            ZoneSource::FirstAccount { name } => format!(
                "Defaulted to the time zone of the first connected ad account, {name}; choose the ad account in the What step to use its zone."
            ),
            ZoneSource::Browser => {
                "Defaulted to this browser's time zone: no ad account is connected.".to_owned()
            }
        }
    }
}

/// The default zone for a schedule of a campaign whose What step names ad account `chosen`
/// (`act_…`, or empty), given the connected `accounts` (in Facebook's order) and the browser's
/// zone. An account without a zone is skipped.
pub fn default_time_zone(chosen: &str, accounts: &[AccountZone], browser: &str) -> DefaultZone {
    let usable = |a: &&AccountZone| !a.time_zone.trim().is_empty();
    if let Some(a) = accounts
        .iter()
        .filter(usable)
        .find(|a| !chosen.is_empty() && a.id == chosen)
    {
        return DefaultZone {
            time_zone: a.time_zone.clone(),
            source: ZoneSource::ChosenAccount {
                name: a.name.clone(),
            },
        };
    }
    if let Some(a) = accounts.iter().find(usable) {
        return DefaultZone {
            time_zone: a.time_zone.clone(),
            source: ZoneSource::FirstAccount {
                name: a.name.clone(),
            },
        };
    }
    DefaultZone {
        time_zone: browser.to_owned(),
        source: ZoneSource::Browser,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts() -> Vec<AccountZone> {
        let a = |id: &str, name: &str, tz: &str| AccountZone {
            id: id.into(),
            name: name.into(),
            time_zone: tz.into(),
        };
        vec![
            a("act_1", "Acme Store US", "America/Los_Angeles"),
            a("act_2", "Acme Store India", "Asia/Kolkata"),
        ]
    }

    #[test]
    fn the_chosen_ad_accounts_zone_wins() {
        let d = default_time_zone("act_2", &accounts(), "Europe/Berlin");
        assert_eq!(d.time_zone, "Asia/Kolkata");
        assert_eq!(
            d.source,
            ZoneSource::ChosenAccount {
                name: "Acme Store India".into()
            }
        );
        assert!(d.explain().contains("Acme Store India"));
    }

    #[test]
    fn without_a_chosen_account_the_first_connected_one_is_used() {
        let d = default_time_zone("", &accounts(), "Europe/Berlin");
        assert_eq!(d.time_zone, "America/Los_Angeles");
        assert!(matches!(d.source, ZoneSource::FirstAccount { .. }));
        // An account the connection cannot see counts as none chosen.
        let d = default_time_zone("act_9", &accounts(), "Europe/Berlin");
        assert_eq!(d.time_zone, "America/Los_Angeles");
    }

    #[test]
    fn the_browsers_zone_is_the_last_resort() {
        let d = default_time_zone("act_1", &[], "Europe/Berlin");
        assert_eq!(
            (d.time_zone.as_str(), &d.source),
            ("Europe/Berlin", &ZoneSource::Browser)
        );
        let mut blank = accounts();
        for a in &mut blank {
            a.time_zone.clear();
        }
        assert_eq!(
            default_time_zone("act_1", &blank, "UTC").source,
            ZoneSource::Browser
        );
    }
}
