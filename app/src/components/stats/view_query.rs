//! The stats page's view state — date range, selected ads, chart metric — lives in the URL query
//! (`?from=…&to=…&ads=…&metric=…`), so a copied URL shows a colleague exactly the same view.

use leptos_router::params::ParamsMap;
use shared::stats::{ChartMetric, StatsQuery};

#[derive(Debug, Clone, PartialEq)]
pub struct ViewQuery {
    /// What the server is asked for.
    pub stats: StatsQuery,
    pub metric: ChartMetric,
}

impl ViewQuery {
    /// Reads the URL; a malformed part is ignored (the page shows the default instead).
    pub fn from_params(p: &ParamsMap) -> Self {
        let from = p.get("from");
        let to = p.get("to");
        let ads = p.get("ads");
        let range = p.get("range");
        let (from, to, ads, range) = (
            from.as_deref(),
            to.as_deref(),
            ads.as_deref(),
            range.as_deref(),
        );
        let stats = StatsQuery::parse_view(from, to, ads, range)
            .or_else(|_| StatsQuery::parse_view(from, to, None, range))
            .or_else(|_| StatsQuery::parse_view(None, None, ads, range))
            .or_else(|_| StatsQuery::parse(None, None, ads))
            .unwrap_or_default();
        let metric = p
            .get("metric")
            .as_deref()
            .and_then(ChartMetric::from_key)
            .unwrap_or(ChartMetric::Impressions);
        Self { stats, metric }
    }

    /// `base?from=…&to=…&ads=…&metric=…`, the default metric left out.
    pub fn to_url(&self, base: &str) -> String {
        let mut qs = self.stats.to_query_string();
        if self.metric != ChartMetric::Impressions {
            if !qs.is_empty() {
                qs.push('&');
            }
            qs.push_str("metric=");
            qs.push_str(self.metric.key());
        }
        if qs.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{qs}")
        }
    }
}
