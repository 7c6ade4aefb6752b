//! `GET services.{fmt}` and `GET services/{code}.{fmt}`: one service per
//! category of the router's taxonomy.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;

use super::error::ApiError;
use super::wire::{self, Format, Record, Value};
use crate::classify::Category;
use crate::router::Router;

/// Keywords listed per service: enough for a client's search box, not the
/// whole keyword table.
const KEYWORDS_PER_SERVICE: usize = 12;

/// The service list of the router it was built for; rebuilt when the
/// dispatcher's router is reloaded (scanning the keywords is not free).
#[derive(Debug, Default)]
pub(crate) struct ServiceCache(Mutex<Option<Cached>>);

/// A router and its services.
type Cached = (Arc<Router>, Arc<Vec<Record>>);

impl ServiceCache {
    pub(crate) fn services(&self, router: &Arc<Router>) -> Arc<Vec<Record>> {
        let mut cached = self.0.lock();
        if let Some((r, list)) = &*cached {
            if Arc::ptr_eq(r, router) {
                return list.clone();
            }
        }
        let list: Arc<Vec<Record>> = Arc::new(
            router
                .categories()
                .map(|(id, c)| {
                    let keywords = router.classifier().keywords(id);
                    service(c, &keywords)
                })
                .collect(),
        );
        *cached = Some((router.clone(), list.clone()));
        list
    }
}

/// The service of one category: code, names, the domain as its group.
fn service(c: &Category, keywords: &[&str]) -> Record {
    let description = if c.name_en().is_empty() {
        c.name().to_string()
    } else {
        format!("{} ({})", c.name(), c.name_en())
    };
    let keywords = keywords
        .iter()
        .take(KEYWORDS_PER_SERVICE)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    Record::new()
        .field("service_code", c.code())
        .field("service_name", c.name())
        .field("description", description)
        .field("metadata", Value::Bool(false))
        .field("type", "realtime")
        .field("keywords", keywords)
        .field("group", c.domain().name())
}

pub(crate) fn list(format: Format, services: &[Record]) -> Response {
    wire::list(format, StatusCode::OK, "services", "service", services)
}

/// The definition of `code`: no attributes (`metadata` is false for
/// every service), as the spec's `service_definition`.
pub(crate) fn definition(format: Format, router: &Router, code: &str) -> Response {
    if router.category_id(code).is_none() {
        return ApiError::not_found(format, format!("service_code {code:?} not found"))
            .into_response();
    }
    let definition = Record::new()
        .field("service_code", code)
        .field("attributes", Value::List("attribute", Vec::new()));
    wire::object(format, "service_definition", &definition)
}
