//! Routes JSON Lines tickets from stdin to JSON Lines decisions on stdout.
//!
//! ```text
//! cargo run --release --example route < tickets.jsonl > decisions.jsonl
//! cargo run --release --example route -- --districts ../shared/data/china/districts.geojson \
//!     --code-property gb < tickets.jsonl > decisions.jsonl
//! ```
//!
//! This example is the `route` subcommand of the `hotline` binary
//! (`hotline route`, `cargo run --release --features cli --bin hotline -- route …`) under
//! another name: it includes `src/bin/hotline/route.rs`, the one
//! implementation, and takes the same flags.
//!
//! Input, one ticket per line:
//! `{"id","text","address"?,"lon"?,"lat"?,"crs"?: "wgs84"|"gcj02"|"bd09","channel"?,"building"?,"received_at"?}`
//! (a ticket without `received_at` is taken as received when it is routed,
//! on the wall clock; `building` is a building code of the registry, 一楼一码).
//!
//! Output, exactly one line per input line, in order: the decision
//! (`{"id","category","domain","categories","confidence","classified_by","low_confidence",
//! "district","street","community","building"?,"located_by","agency","co_agencies","priority",
//! "deadline","language","language_service","explain"}`, `building` only for a ticket located by
//! its building code) or, for a
//! line that cannot be parsed or routed, `{"id": <id or null>, "line": <n>, "error": "<what>"}`.
//! Nothing is skipped silently, and memory stays constant: the input streams.
//! The work is done by [`hotline_router::jsonl::route_lines`].
//!
//! By default the embedded Beijing configuration routes, classifying with
//! the embedded model beside the keywords. Options (`--help` lists them):
//!
//! * `--model FILE` classifies with a model from `hotline train` instead
//!   (its labels must be category codes of the taxonomy); `--no-model` with
//!   the keywords alone;
//! * `--districts FILE` a GeoJSON FeatureCollection of district polygons,
//!   with `--code-property NAME` (default `code`) and `--name-property NAME`
//!   (default `name`); untidy features are skipped and listed on stderr, or
//!   refused with `--reject-untidy`;
//! * `--streets FILE` / `--communities FILE` CSV (`code,name,district_code`,
//!   `code,name,street_code`) for the gazetteer (with `--districts`);
//! * `--buildings FILE` the building registry (一楼一码), CSV
//!   `code,name,address,community_code,lon,lat` with an optional `crs`
//!   column (default: the embedded sample registry; none with `--districts`);
//! * `--taxonomy FILE` / `--routing FILE` TOML in the format of
//!   `data/beijing/taxonomy.toml` and `routing.toml`. With `--districts` but
//!   no `--routing`, the default Beijing override rules (they name Beijing
//!   streets) are dropped;
//! * `--max-line-bytes N` the longest input line read (default 1 MiB): the
//!   rest of a longer line is skipped, not held, and the line answered with
//!   `{"id":null,"line":N,"error":"line longer than N bytes"}`.
//!
//! Exit codes: 0 success, 2 a usage or configuration error, 1 an I/O
//! failure.

#[path = "../src/bin/hotline/route.rs"]
mod route;

use std::process::ExitCode;

use clap::Parser;

/// Routes JSON Lines tickets from stdin to decisions on stdout (the same
/// as `hotline route`).
#[derive(Parser, Debug)]
#[command(name = "route", long_about = None)]
struct Cli {
    #[command(flatten)]
    args: route::RouteArgs,
    #[command(flatten)]
    input: route::InputArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match route::run(&cli.args, &cli.input, "route") {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("route: {e}");
            ExitCode::from(match e {
                route::RouteError::Config(_) => 2,
                route::RouteError::Io(_) => 1,
            })
        }
    }
}
