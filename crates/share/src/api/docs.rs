//! The OpenAPI document, generated from the handlers' annotations, and a readable page rendered from it (no
//! external assets: the page works offline).

use super::auth::{Access, access};
use super::{hooks, keys, reads, stream, subjects, writes};
use axum::Json;
use axum::response::Html;
use serde_json::Value;
use std::fmt::Write as _;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "cdihub",
        description = "Customer data integration hub: the golden record and 360° view of every customer, with \
                       provenance. Every error answers with {code, message, field}. Every endpoint but /health \
                       needs an API key (`Authorization: Bearer cdh_…`) whose role grants the permission the \
                       endpoint names; personal data is masked for roles without `pii.read`."
    ),
    paths(
        reads::health,
        spec,
        page,
        reads::entity,
        reads::history,
        reads::lookup,
        reads::search,
        reads::explain,
        reads::feed,
        stream::stream,
        writes::put_record,
        writes::post_batch,
        writes::delete_record,
        writes::merge,
        writes::unmerge,
        hooks::register,
        hooks::list,
        hooks::show,
        hooks::remove,
        keys::create,
        keys::list,
        keys::revoke,
        keys::audit,
        subjects::export,
        subjects::erase,
        subjects::receipts
    ),
    components(schemas(super::types::WebhookDelivery)),
    tags(
        (name = "entities", description = "Entities (customers) and their golden records"),
        (name = "records", description = "Source records pushed in: each is matched and merged at once"),
        (name = "stewardship", description = "A data steward's decisions: merge, unmerge"),
        (name = "matching", description = "Why records match"),
        (name = "feed", description = "The change feed: what happened to entities, in order"),
        (name = "webhooks", description = "Endpoints the change feed is pushed to: signed (HMAC-SHA256), retried \
                                            with backoff, at least once, in order per entity; the body is a \
                                            WebhookDelivery"),
        (name = "access", description = "API keys (issued, shown once; listed; revoked) and the audit trail"),
        (name = "privacy", description = "A person's rights: everything held about them (access), erasure, and \
                                           the receipts erasures leave"),
        (name = "service", description = "The service itself"),
    )
)]
struct ApiDoc;

/// The OpenAPI 3 document.
pub fn document() -> utoipa::openapi::OpenApi {
    use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    let scheme = SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer));
    doc.components.get_or_insert_with(Default::default).add_security_scheme("api_key", scheme);
    // Each operation says what it requires, from the same table the server enforces.
    for (path, item) in doc.paths.paths.iter_mut() {
        let methods = [
            (axum::http::Method::GET, &mut item.get),
            (axum::http::Method::PUT, &mut item.put),
            (axum::http::Method::POST, &mut item.post),
            (axum::http::Method::DELETE, &mut item.delete),
        ];
        for (method, operation) in methods {
            let Some(operation) = operation else { continue };
            let (security, note) = match access(&method, path) {
                Some(Access::Public) => (SecurityRequirement::default(), "Needs no credential.".to_string()),
                Some(Access::Needs(p)) => {
                    (SecurityRequirement::new("api_key", Vec::<String>::new()), format!("Needs the permission `{p}`."))
                }
                None => (SecurityRequirement::new("api_key", Vec::<String>::new()), "Refused to everyone.".into()),
            };
            operation.security = Some(vec![security]);
            let description = operation.description.take().unwrap_or_default();
            operation.description = Some(format!("{description}\n\n{note}").trim().to_string());
        }
    }
    doc
}

/// This document: the API as OpenAPI 3.
#[utoipa::path(get, path = "/openapi.json", tag = "service", responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
pub async fn spec() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

/// The endpoints, their parameters and answers, as an HTML page.
#[utoipa::path(get, path = "/docs", tag = "service", responses((status = 200, description = "The API documentation", content_type = "text/html")))]
pub async fn page() -> Html<String> {
    Html(render(&serde_json::to_value(document()).unwrap_or(Value::Null)))
}

fn render(doc: &Value) -> String {
    let text = |v: &Value| escape(v.as_str().unwrap_or_default());
    let mut out = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>cdihub API</title><style>\
         body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}\
         code{background:#f3f3f3;padding:0 .2rem}h2{margin-top:2rem;border-top:1px solid #ddd;padding-top:1rem}\
         table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}\
         </style></head><body>",
    );
    let _ = write!(out, "<h1>{} {}</h1>", text(&doc["info"]["title"]), text(&doc["info"]["version"]));
    let _ = write!(out, "<p>{}</p>", text(&doc["info"]["description"]));
    out.push_str("<p>Machine-readable: <a href=\"/openapi.json\"><code>/openapi.json</code></a> (OpenAPI 3).</p>");
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let _ = write!(out, "<h2><code>{} {}</code></h2>", escape(&method.to_uppercase()), escape(path));
            let _ = write!(out, "<p>{}</p>", text(&op["summary"]));
            if op["description"].is_string() {
                let _ = write!(out, "<p>{}</p>", text(&op["description"]));
            }
            if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
                out.push_str("<table><tr><th>parameter</th><th>in</th><th>required</th><th>meaning</th></tr>");
                for p in params {
                    let required = if p["required"].as_bool().unwrap_or(false) { "yes" } else { "no" };
                    let _ = write!(
                        out,
                        "<tr><td><code>{}</code></td><td>{}</td><td>{required}</td><td>{}</td></tr>",
                        text(&p["name"]),
                        text(&p["in"]),
                        text(&p["description"])
                    );
                }
                out.push_str("</table>");
            }
            out.push_str("<p>Answers:</p><ul>");
            for (status, response) in op["responses"].as_object().into_iter().flatten() {
                let _ = write!(out, "<li><code>{}</code> {}</li>", escape(status), text(&response["description"]));
            }
            out.push_str("</ul>");
        }
    }
    out.push_str("</body></html>");
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_lists_every_route_and_the_page_renders_it() {
        let doc = serde_json::to_value(document()).expect("serialises");
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", doc["openapi"]);
        for (method, path) in [
            ("get", "/health"),
            ("get", "/entities/{id}"),
            ("get", "/entities/{id}/history"),
            ("get", "/lookup"),
            ("get", "/search"),
            ("get", "/explain"),
            ("get", "/feed"),
            ("get", "/feed/stream"),
            ("put", "/sources/{source}/records/{id}"),
            ("delete", "/sources/{source}/records/{id}"),
            ("post", "/sources/{source}/records:batch"),
            ("post", "/entities/merge"),
            ("post", "/entities/{id}/unmerge"),
            ("post", "/webhooks"),
            ("get", "/webhooks"),
            ("get", "/webhooks/{id}"),
            ("delete", "/webhooks/{id}"),
        ] {
            assert!(doc["paths"][path][method].is_object(), "{method} {path} is documented");
        }
        assert!(doc["components"]["schemas"]["EntityResponse"].is_object());
        assert!(doc["components"]["schemas"]["ApiError"].is_object());
        assert!(doc["components"]["schemas"]["WebhookDelivery"]["properties"]["events"].is_object());
        // A valid OpenAPI 3.1 document: it parses as one, every response is described (the specification
        // requires it), and every schema reference resolves.
        let text = doc.to_string();
        let parsed = oas3::from_json(&text).expect("parses as OpenAPI 3.1");
        parsed.validate_version().expect("a supported OpenAPI version");
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("operations") {
                for (status, response) in op["responses"].as_object().expect("responses") {
                    assert!(response["description"].is_string(), "{method} {path} {status} has no description");
                }
            }
        }
        for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap_or_default();
            assert!(doc["components"]["schemas"][name].is_object(), "unresolved reference to {name}");
        }
        let html = render(&doc);
        assert!(html.contains("<code>GET /entities/{id}</code>") && html.contains("<code>source</code>"));
        assert_eq!(escape("<a href=\"x\">&"), "&lt;a href=&quot;x&quot;&gt;&amp;");
    }
}
