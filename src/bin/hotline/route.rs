//! `hotline route`: JSON Lines tickets from stdin to JSON Lines decisions on
//! stdout, through [`hotline_router::jsonl::route_lines`].
//!
//! This file is the one implementation of the route command: the `hotline`
//! binary declares it as a module, and `examples/route.rs` includes it with
//! `#[path]`. It therefore uses nothing else from the binary.

use std::fmt;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use hotline_router::classify::model::{Model, ModelError};
use hotline_router::jsonl::{self, Summary};
use hotline_router::locate::geojson::Untidy;
use hotline_router::{
    BuildingsConfig, JurisdictionsConfig, Router, RouterBuilder, RouterConfig, RoutingConfig,
    TaxonomyConfig,
};

/// The options of the route command.
///
/// Without `--model` or `--no-model` the router classifies with its
/// default: the embedded Beijing model beside the keywords, when the
/// taxonomy has every one of the model's labels.
#[derive(Args, Clone, Debug, Default)]
pub struct RouteArgs {
    /// Classify with this model file beside the keywords (its labels must be
    /// category codes of the taxonomy).
    #[arg(long, value_name = "MODEL", conflicts_with = "no_model")]
    pub model: Option<PathBuf>,
    /// Classify with the taxonomy's keywords alone.
    #[arg(long)]
    pub no_model: bool,
    /// District polygons: a GeoJSON FeatureCollection (default: the embedded
    /// Beijing districts). Without --routing, the Beijing override rules
    /// (they name Beijing streets) are dropped.
    #[arg(long, value_name = "FILE")]
    pub districts: Option<PathBuf>,
    /// The feature property holding a district's code.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "code",
        requires = "districts"
    )]
    pub code_property: String,
    /// The feature property holding a district's name.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "name",
        requires = "districts"
    )]
    pub name_property: String,
    /// Streets for the gazetteer: CSV `code,name,district_code`.
    #[arg(long, value_name = "FILE", requires = "districts")]
    pub streets: Option<PathBuf>,
    /// Communities for the gazetteer: CSV `code,name,street_code`.
    #[arg(long, value_name = "FILE", requires = "districts")]
    pub communities: Option<PathBuf>,
    /// The taxonomy, TOML in the format of data/beijing/taxonomy.toml.
    #[arg(long, value_name = "FILE")]
    pub taxonomy: Option<PathBuf>,
    /// The routing rules, TOML in the format of data/beijing/routing.toml.
    #[arg(long, value_name = "FILE")]
    pub routing: Option<PathBuf>,
    /// Refuse untidy district features instead of skipping them (they are
    /// listed on stderr either way).
    #[arg(long, requires = "districts")]
    pub reject_untidy: bool,
    /// The building registry (一楼一码): CSV
    /// `code,name,address,community_code,lon,lat[,crs]` (default: the
    /// embedded sample registry; none with --districts).
    #[arg(long, value_name = "FILE")]
    pub buildings: Option<PathBuf>,
}

/// The input option of the commands that read JSON Lines.
#[derive(Args, Clone, Copy, Debug)]
pub struct InputArgs {
    /// The longest input line read, in bytes (without its line end); the
    /// rest of a longer line is skipped, not held, and the line is reported
    /// (an error line where the command writes them).
    #[arg(long, value_name = "BYTES", default_value_t = jsonl::DEFAULT_MAX_LINE_BYTES)]
    pub max_line_bytes: usize,
}

impl Default for InputArgs {
    fn default() -> InputArgs {
        InputArgs {
            max_line_bytes: jsonl::DEFAULT_MAX_LINE_BYTES,
        }
    }
}

/// Why routing failed.
#[derive(Debug)]
pub enum RouteError {
    /// The options, a file or the configuration is wrong (exit code 2).
    Config(String),
    /// Reading stdin or writing stdout failed (exit code 1).
    Io(io::Error),
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteError::Config(message) => f.write_str(message),
            RouteError::Io(e) => write!(f, "routing stdin to stdout: {e}"),
        }
    }
}

/// Builds the router, then routes stdin to stdout, lines longer than
/// `input.max_line_bytes` answered with error lines; progress goes to
/// stderr, each message prefixed with `prog`.
///
/// # Errors
///
/// [`RouteError::Config`] before anything is routed, [`RouteError::Io`]
/// when stdin or stdout fails. Bad lines are error lines, not errors.
pub fn run(args: &RouteArgs, input: &InputArgs, prog: &str) -> Result<Summary, RouteError> {
    let started = Instant::now();
    let router = router(args, prog).map_err(RouteError::Config)?;
    let model = match router.model() {
        Some(m) => format!("a model of {} labels and keywords", m.labels().len()),
        None => "keywords alone".to_string(),
    };
    eprintln!(
        "{prog}: router built in {:.1} ms ({} districts, {} streets, {} buildings; classifying with {model})",
        started.elapsed().as_secs_f64() * 1e3,
        router.jurisdictions().districts().len(),
        router.jurisdictions().streets().len(),
        router.buildings().len()
    );
    let out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let summary = jsonl::route_lines_capped(&router, io::stdin().lock(), out, input.max_line_bytes)
        .map_err(RouteError::Io)?;
    eprintln!(
        "{prog}: {} routed, {} error lines",
        summary.routed, summary.errors
    );
    Ok(summary)
}

/// Loads a model file; the message names the file.
///
/// # Errors
///
/// The [`ModelError`]'s message, with the path.
pub fn load_model(path: &Path) -> Result<Model, String> {
    Model::load(path).map_err(|e| match e {
        ModelError::Io { .. } => e.to_string(),
        _ => format!("{}: {e}", path.display()),
    })
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The router the options ask for (also for `hotline alerts`); notes about
/// skipped features go to stderr, prefixed with `prog`.
///
/// # Errors
///
/// A message naming the file or setting that is wrong.
pub fn router(a: &RouteArgs, prog: &str) -> Result<Router, String> {
    let (builder, config) = configure(a, prog)?;
    builder.build(config).map_err(|e| e.to_string())
}

/// The router builder and configuration the options ask for, before the
/// router is built: for a command that needs the configuration too (the
/// district polygons of `hotline report`'s map). Skipped GeoJSON features
/// are listed on stderr, each message prefixed with `prog`.
///
/// # Errors
///
/// A message naming the file or option that is wrong.
pub fn configure(a: &RouteArgs, prog: &str) -> Result<(RouterBuilder, RouterConfig), String> {
    let mut builder = Router::builder();
    if let Some(path) = &a.model {
        builder.model(load_model(path)?);
    } else if a.no_model {
        builder.without_model();
    }
    let mut config = RouterConfig::beijing();
    if let Some(path) = &a.taxonomy {
        let name = path.display().to_string();
        config.taxonomy =
            TaxonomyConfig::from_toml(&read(path)?, &name).map_err(|e| e.to_string())?;
    }
    if let Some(path) = &a.routing {
        let name = path.display().to_string();
        config.routing =
            RoutingConfig::from_toml(&read(path)?, &name).map_err(|e| e.to_string())?;
    }
    if let Some(path) = &a.districts {
        let untidy = if a.reject_untidy {
            Untidy::Reject
        } else {
            Untidy::Skip
        };
        let (mut j, skipped) = JurisdictionsConfig::from_geojson(
            &read(path)?,
            &path.display().to_string(),
            &a.code_property,
            &a.name_property,
            untidy,
        )
        .map_err(|e| e.to_string())?;
        for s in &skipped {
            eprintln!(
                "{prog}: skipped feature #{} '{}': {}",
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
            eprintln!("{prog}: the default override rules name Beijing streets; dropped for this layer (--routing sets your own)");
        }
    }
    if let Some(path) = &a.buildings {
        let name = path.display().to_string();
        config.jurisdictions.buildings =
            BuildingsConfig::from_csv(&read(path)?, &name).map_err(|e| e.to_string())?;
    }
    Ok((builder, config))
}
