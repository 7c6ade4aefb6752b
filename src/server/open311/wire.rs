//! One data model, two encodings: GeoReport v2 JSON and XML.
//!
//! Every response is a [`Record`] (or a list of them): ordered fields whose
//! values are text, numbers, booleans, nulls or nested lists. JSON writes a
//! record as an object and a list as an array; XML writes a list as a root
//! element holding one element per record (`<services><service>…`), the
//! spec's XML from which its JSON is derived (the Spark convention).

use std::io;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// The encoding a client asked for with the resource's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Xml,
}

impl Format {
    /// Splits `services.json` into `("services", Json)`; the last dot
    /// separates, so codes with dots (`housing.repair.xml`) keep theirs.
    /// `Err` carries the stem when the extension is missing or unknown.
    pub(crate) fn split(file: &str) -> Result<(&str, Format), &str> {
        match file.rsplit_once('.') {
            Some((stem, "json")) => Ok((stem, Format::Json)),
            Some((stem, "xml")) => Ok((stem, Format::Xml)),
            Some((stem, _)) => Err(stem),
            None => Err(file),
        }
    }

    /// The format a path asks for, JSON unless it ends in `.xml`: for
    /// errors raised before a handler ran (limits).
    pub(crate) fn of_path(path: &str) -> Format {
        if path.ends_with(".xml") {
            Format::Xml
        } else {
            Format::Json
        }
    }
}

/// A field's value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Text(String),
    Number(f64),
    Integer(i64),
    Bool(bool),
    Null,
    /// Nested records: `attributes` holding `attribute`s.
    List(&'static str, Vec<Record>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(s)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// An ordered set of fields: one service, request or error.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Record(pub(crate) Vec<(&'static str, Value)>);

impl Record {
    pub(crate) fn new() -> Record {
        Record(Vec::new())
    }

    pub(crate) fn field(mut self, name: &'static str, value: impl Into<Value>) -> Record {
        self.0.push((name, value.into()));
        self
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Text(t) => s.serialize_str(t),
            // Not finite cannot be JSON: nothing stored is, but never emit
            // an invalid document.
            Value::Number(n) if !n.is_finite() => s.serialize_none(),
            Value::Number(n) => s.serialize_f64(*n),
            Value::Integer(n) => s.serialize_i64(*n),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Null => s.serialize_none(),
            Value::List(_, records) => {
                let mut seq = s.serialize_seq(Some(records.len()))?;
                for r in records {
                    seq.serialize_element(r)?;
                }
                seq.end()
            }
        }
    }
}

impl Serialize for Record {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// A list response: `[…]` in JSON, `<root><item>…</item></root>` in XML.
pub(crate) fn list(
    format: Format,
    status: StatusCode,
    root: &'static str,
    item: &'static str,
    records: &[Record],
) -> Response {
    match format {
        Format::Json => json(status, &records),
        Format::Xml => xml(status, |w| {
            w.write_event(Event::Start(BytesStart::new(root)))?;
            for r in records {
                write_record(w, item, r)?;
            }
            w.write_event(Event::End(BytesEnd::new(root)))
        }),
    }
}

/// A single-object response (the service definition): `{…}` in JSON,
/// `<root>…</root>` in XML.
pub(crate) fn object(format: Format, root: &'static str, record: &Record) -> Response {
    match format {
        Format::Json => json(StatusCode::OK, record),
        Format::Xml => xml(StatusCode::OK, |w| write_record(w, root, record)),
    }
}

fn json(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            bytes,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn xml(status: StatusCode, body: impl FnOnce(&mut Writer<Vec<u8>>) -> io::Result<()>) -> Response {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let written = w
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))
        .and_then(|()| body(&mut w));
    match written {
        Ok(()) => (
            status,
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            w.into_inner(),
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn write_record(w: &mut Writer<Vec<u8>>, name: &str, record: &Record) -> io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))?;
    for (field, value) in &record.0 {
        let text = match value {
            Value::Null => {
                w.write_event(Event::Empty(BytesStart::new(*field)))?;
                continue;
            }
            Value::List(item, records) => {
                w.write_event(Event::Start(BytesStart::new(*field)))?;
                for r in records {
                    write_record(w, item, r)?;
                }
                w.write_event(Event::End(BytesEnd::new(*field)))?;
                continue;
            }
            Value::Text(t) => xml_chars(t),
            Value::Number(n) if !n.is_finite() => {
                w.write_event(Event::Empty(BytesStart::new(*field)))?;
                continue;
            }
            Value::Number(n) => n.to_string(),
            Value::Integer(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
        };
        w.write_event(Event::Start(BytesStart::new(*field)))?;
        w.write_event(Event::Text(BytesText::new(&text)))?;
        w.write_event(Event::End(BytesEnd::new(*field)))?;
    }
    w.write_event(Event::End(BytesEnd::new(name)))
}

/// `t` without the characters XML 1.0 cannot carry even escaped (control
/// characters but tab and line breaks): a caller's description may hold
/// them, and the document must stay well-formed.
fn xml_chars(t: &str) -> String {
    t.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_dots_of_codes() {
        assert_eq!(
            Format::split("services.json"),
            Ok(("services", Format::Json))
        );
        assert_eq!(
            Format::split("housing.repair.xml"),
            Ok(("housing.repair", Format::Xml))
        );
        assert_eq!(Format::split("services.yaml"), Err("services"));
        assert_eq!(Format::split("services"), Err("services"));
    }

    #[test]
    fn control_characters_are_dropped_from_xml_text() {
        assert_eq!(xml_chars("a\u{0}b\u{1b}c\n\td"), "abc\n\td");
    }
}
