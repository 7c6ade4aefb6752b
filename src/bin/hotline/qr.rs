//! `hotline qr CODE`: a building's QR code (一楼一码) as SVG on stdout.
//!
//! The code opens a URL made from a template with `{code}` in it; the
//! default's domain is a placeholder (`12345.example.org`, reserved for
//! examples) that a city replaces with its own form's address. The SVG
//! carries the building's name and code as its `<title>`. Error correction is
//! level Q (a quarter of the code can be dirty or torn): a sticker lives on a
//! stairwell door.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;
use hotline_router::{Building, BuildingsConfig, Router, RouterConfig};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use crate::Failure;

/// The default URL template: a placeholder domain and the building's code.
pub const DEFAULT_URL: &str = "https://12345.example.org/qr/{code}";

/// The options of the qr command.
#[derive(Args, Clone, Debug)]
pub struct QrArgs {
    /// The building's code, as in the registry.
    pub code: String,
    /// The building registry: CSV `code,name,address,community_code,lon,lat[,crs]`
    /// (default: the embedded sample registry).
    #[arg(long, value_name = "FILE")]
    pub buildings: Option<PathBuf>,
    /// The URL the QR code opens; `{code}` is replaced by the building's
    /// code. The default's domain is a placeholder for the city's own.
    #[arg(long, value_name = "TEMPLATE", default_value = DEFAULT_URL)]
    pub url: String,
}

/// Prints the building's QR code as SVG on stdout.
///
/// # Errors
///
/// [`Failure::Usage`] for a template without `{code}`, a registry that
/// cannot be read or does not build, and an unknown code;
/// [`Failure::Io`] when stdout fails.
pub fn run(args: &QrArgs) -> Result<(), Failure> {
    if !args.url.contains("{code}") {
        return Err(Failure::Usage(format!(
            "--url {:?} has no {{code}} to put the building code in",
            args.url
        )));
    }
    let mut config = RouterConfig::beijing();
    if let Some(path) = &args.buildings {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
        config.jurisdictions.buildings =
            BuildingsConfig::from_csv(&text, &path.display().to_string())
                .map_err(|e| Failure::Usage(e.to_string()))?;
    }
    // The registry is checked against the jurisdictions and polygons, as
    // when routing; the classifier's model is not needed for that.
    let router = Router::builder()
        .without_model()
        .build(config)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let registry = router.buildings();
    let building = registry.get(args.code.trim()).ok_or_else(|| {
        Failure::Usage(format!(
            "unknown building code {:?} ({} buildings in the registry)",
            args.code,
            registry.len()
        ))
    })?;
    let svg = qr_svg(&args.url.replace("{code}", building.code()), building)?;
    let mut out = io::stdout().lock();
    out.write_all(svg.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(Failure::io("writing the SVG to stdout"))
}

/// The QR code of `payload` as an SVG document titled with the building.
fn qr_svg(payload: &str, building: &Building) -> Result<String, Failure> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::Q)
        .map_err(|e| Failure::Usage(format!("cannot make a QR code of {payload:?}: {e}")))?;
    let svg = code
        .render::<svg::Color>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build();
    let title = format!(
        "<title>{} {}</title>",
        xml_escape(building.name()),
        xml_escape(building.code())
    );
    // After the root element's start tag, where a title belongs.
    let at = svg
        .find("<svg")
        .and_then(|s| svg[s..].find('>').map(|e| s + e + 1))
        .unwrap_or(svg.len());
    Ok(format!("{}{title}{}", &svg[..at], &svg[at..]))
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
