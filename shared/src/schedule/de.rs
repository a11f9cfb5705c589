//! `Deserialize` for [`Schedule`], which flattens an internally tagged enum, and for the
//! internally tagged enums below it, written by hand for the browser's code size (see
//! [`crate::tagged`]). The JSON and the error messages are serde's.

use serde_json::Error;

use super::{End, Repeat, Schedule, ScheduleKind};
use crate::tagged::{
    Object, Tagged, deserialize_flattened, deserialize_tagged, field, field_or_default,
    unknown_variant,
};

deserialize_tagged!(ScheduleKind, Repeat, End);

deserialize_flattened!(Schedule, "struct Schedule", |object| Schedule {
    time_zone: field(object, "time_zone")?,
    kind: ScheduleKind::from_tagged_object(object)?,
});

impl Tagged for ScheduleKind {
    const NAME: &'static str = "ScheduleKind";
    const TAG: &'static str = "kind";
    const VARIANTS: &'static [&'static str] = &["now", "once", "multiple", "recurring"];

    fn from_object(object: &Object, kind: &str) -> Result<Self, Error> {
        Ok(match kind {
            "now" => ScheduleKind::Now,
            "once" => ScheduleKind::Once {
                at: field(object, "at")?,
            },
            "multiple" => ScheduleKind::Multiple {
                times: field(object, "times")?,
            },
            "recurring" => ScheduleKind::Recurring {
                repeat: field(object, "repeat")?,
                time: field(object, "time")?,
                start_date: field(object, "start_date")?,
                end: field_or_default(object, "end")?,
            },
            other => return Err(unknown_variant::<Self>(other)),
        })
    }
}

impl Tagged for Repeat {
    const NAME: &'static str = "Repeat";
    const TAG: &'static str = "every";
    const VARIANTS: &'static [&'static str] = &["days", "weeks", "months"];

    fn from_object(object: &Object, every: &str) -> Result<Self, Error> {
        let interval = field(object, "interval")?;
        Ok(match every {
            "days" => Repeat::Days { interval },
            "weeks" => Repeat::Weeks {
                interval,
                weekdays: field(object, "weekdays")?,
            },
            "months" => Repeat::Months {
                interval,
                days: field(object, "days")?,
            },
            other => return Err(unknown_variant::<Self>(other)),
        })
    }
}

impl Tagged for End {
    const NAME: &'static str = "End";
    const TAG: &'static str = "kind";
    const VARIANTS: &'static [&'static str] = &["never", "on_date", "after_runs"];

    fn from_object(object: &Object, kind: &str) -> Result<Self, Error> {
        Ok(match kind {
            "never" => End::Never,
            "on_date" => End::OnDate {
                date: field(object, "date")?,
            },
            "after_runs" => End::AfterRuns {
                runs: field(object, "runs")?,
            },
            other => return Err(unknown_variant::<Self>(other)),
        })
    }
}
