//! Routes JSON Lines tickets from stdin to JSON Lines decisions on stdout.
//!
//! ```text
//! cargo run --release --example route < tickets.jsonl > decisions.jsonl
//! cargo run --release --example route -- --districts ../shared/data/china/districts.geojson \
//!     --code-property gb < tickets.jsonl > decisions.jsonl
//! ```
//!
//! Input, one ticket per line:
//! `{"id","text","address"?,"lon"?,"lat"?,"crs"?: "wgs84"|"gcj02"|"bd09","channel"?,"received_at"?}`
//! (a ticket without `received_at` is taken as received now).
//!
//! Output, exactly one line per input line, in order: the decision
//! (`{"id","category","categories","district","street","community","located_by","agency",
//! "co_agencies","priority","deadline","language","language_service","explain"}`) or, for a
//! line that cannot be parsed or routed, `{"id": <id or null>, "line": <n>, "error": "<what>"}`.
//! Nothing is skipped silently, and memory stays constant: the input streams.
//! The work is done by [`hotline_router::jsonl::route_lines`].
//!
//! By default the embedded Beijing configuration routes. To route over your
//! own data (same output contract):
//!
//! * `--districts FILE` a GeoJSON FeatureCollection of district polygons,
//!   with `--code-property NAME` (default `code`) and `--name-property NAME`
//!   (default `name`); untidy features are skipped and listed on stderr, or
//!   refused with `--reject-untidy`;
//! * `--streets FILE` / `--communities FILE` CSV (`code,name,district_code`,
//!   `code,name,street_code`) for the gazetteer;
//! * `--taxonomy FILE` / `--routing FILE` TOML in the format of
//!   `data/beijing/taxonomy.toml` and `routing.toml`. With `--districts` but
//!   no `--routing`, the default Beijing override rules (they name Beijing
//!   streets) are dropped.

use std::io::{self, BufWriter};
use std::time::Instant;

use hotline_router::locate::geojson::Untidy;
use hotline_router::{
    jsonl, JurisdictionsConfig, Router, RouterConfig, RoutingConfig, TaxonomyConfig,
};

#[derive(Default)]
struct Args {
    districts: Option<String>,
    code_property: Option<String>,
    name_property: Option<String>,
    streets: Option<String>,
    communities: Option<String>,
    taxonomy: Option<String>,
    routing: Option<String>,
    reject_untidy: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let slot = match flag.as_str() {
            "--districts" => &mut a.districts,
            "--code-property" => &mut a.code_property,
            "--name-property" => &mut a.name_property,
            "--streets" => &mut a.streets,
            "--communities" => &mut a.communities,
            "--taxonomy" => &mut a.taxonomy,
            "--routing" => &mut a.routing,
            "--reject-untidy" => {
                a.reject_untidy = true;
                continue;
            }
            other => return Err(format!("unknown argument {other:?}")),
        };
        *slot = Some(it.next().ok_or(format!("{flag} needs a value"))?);
    }
    Ok(a)
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
}

fn router(a: &Args) -> Result<Router, String> {
    let custom = a.districts.is_some() || a.taxonomy.is_some() || a.routing.is_some();
    if !custom {
        return Ok(Router::beijing());
    }
    let mut config = RouterConfig::beijing();
    if let Some(path) = &a.taxonomy {
        config.taxonomy =
            TaxonomyConfig::from_toml(&read(path)?, path).map_err(|e| e.to_string())?;
    }
    if let Some(path) = &a.routing {
        config.routing = RoutingConfig::from_toml(&read(path)?, path).map_err(|e| e.to_string())?;
    }
    if let Some(path) = &a.districts {
        let untidy = if a.reject_untidy {
            Untidy::Reject
        } else {
            Untidy::Skip
        };
        let (mut j, skipped) = JurisdictionsConfig::from_geojson(
            &read(path)?,
            path,
            a.code_property.as_deref().unwrap_or("code"),
            a.name_property.as_deref().unwrap_or("name"),
            untidy,
        )
        .map_err(|e| e.to_string())?;
        for s in &skipped {
            eprintln!(
                "route: skipped feature #{} '{}': {}",
                s.index, s.name, s.reason
            );
        }
        if a.streets.is_some() || a.communities.is_some() {
            let streets = a.streets.as_deref().map(read).transpose()?;
            let communities = a.communities.as_deref().map(read).transpose()?;
            let extra = JurisdictionsConfig::from_csv(
                "code,name\n",
                streets.as_deref().unwrap_or("code,name,district_code\n"),
                communities.as_deref().unwrap_or("code,name,street_code\n"),
            )
            .map_err(|e| e.to_string())?;
            j.streets = extra.streets;
            j.communities = extra.communities;
        }
        config.jurisdictions = j;
        if a.routing.is_none() {
            config.routing.rules.clear();
            eprintln!("route: the default override rules name Beijing streets; dropped for this layer (--routing sets your own)");
        }
    }
    Router::from_config(config).map_err(|e| e.to_string())
}

fn main() -> io::Result<()> {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("route: {e}");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let router = match router(&args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("route: {e}");
            std::process::exit(2);
        }
    };
    eprintln!(
        "route: router built in {:.1} ms ({} districts, {} streets)",
        started.elapsed().as_secs_f64() * 1e3,
        router.jurisdictions().districts().len(),
        router.jurisdictions().streets().len()
    );
    let out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let summary = jsonl::route_lines(&router, io::stdin().lock(), out)?;
    eprintln!(
        "route: {} routed, {} error lines",
        summary.routed, summary.errors
    );
    Ok(())
}
