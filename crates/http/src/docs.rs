//! The OpenAPI documents and the API browser.
//!
//! Each service builds its document from its handlers (utoipa's `#[utoipa::path]` next to each
//! handler, registered through utoipa-axum so a route cannot be served without being documented)
//! and hands it to [`finish`], which completes what is the same everywhere:
//!
//! - the error answers: an operation lists the codes it can answer in its `x-error-codes`
//!   extension (`extensions(("x-error-codes" = json!([42, 32])))`); each becomes an example
//!   `{"message", "code"}` under the code's HTTP status, with the [`ErrorBody`] schema, so the
//!   codes sit next to the handler and their statuses and wordings come from the one error table;
//! - 415 for a body of another type, at every call with a body (unless it takes `*/*`);
//! - the error schema itself in the components.
//!
//! [`routes`] serves the finished document at `{base}/openapi.json` and Swagger UI (its files
//! vendored under `assets/swagger-ui`, nothing from a CDN) at `{base}/docs`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use utoipa::openapi::OpenApi;
use utoipa::{PartialSchema, ToSchema};
use visage_common::error::ErrorBody;
use visage_common::{ApiError, ErrorCode};

/// The extension in which an operation lists the error codes it answers.
pub const ERROR_CODES: &str = "x-error-codes";

const SWAGGER_JS: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js");
const SWAGGER_CSS: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui.css");
const FAVICON: &[u8] = include_bytes!("../assets/swagger-ui/favicon-32x32.png");

/// Swagger UI's start: the document next to the page, deep links. Authorisations are not kept
/// across reloads: Swagger UI would keep the password and the tokens in the browser's
/// localStorage, where any script of the origin can read them.
const INIT_JS: &str = r##"window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: false,
  displayRequestDuration: true,
  defaultModelsExpandDepth: 0,
});
"##;

/// The finished document of a service as JSON: `doc` with the error answers of every operation's
/// `x-error-codes` and the error schema. `by_scheme` names the codes that every operation secured
/// by a security scheme can answer (a missing or unknown key, say); they are added to those
/// operations' lists. Panics on a code that is not in the error table: the document is built at
/// start-up and in the tests, so a wrong code cannot reach users.
pub fn finish(doc: OpenApi, by_scheme: &[(&str, &[u32])]) -> Value {
    let mut doc = serde_json::to_value(doc).expect("an OpenAPI document serialises");
    doc["components"]["schemas"][ErrorBody::name().as_ref()] =
        serde_json::to_value(ErrorBody::schema()).expect("a schema serialises");
    let global_security = doc.get("security").cloned().unwrap_or_else(|| json!([]));
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for (method, operation) in item.iter_mut() {
                let security = operation.get("security").unwrap_or(&global_security).clone();
                let mut codes: Vec<u32> = operation
                    .get(ERROR_CODES)
                    .and_then(Value::as_array)
                    .map(|codes| {
                        codes
                            .iter()
                            .map(|c| {
                                c.as_u64().and_then(|c| u32::try_from(c).ok()).unwrap_or_else(|| {
                                    panic!("{method} {path}: {c} in {ERROR_CODES} is not an error code")
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                for (scheme, common) in by_scheme {
                    let secured = security.as_array().is_some_and(|reqs| reqs.iter().any(|r| r.get(scheme).is_some()));
                    if secured {
                        codes.extend(common.iter().filter(|c| !codes.contains(c)).collect::<Vec<_>>());
                    }
                }
                if !codes.is_empty() {
                    operation[ERROR_CODES] = json!(codes);
                    add_error_answers(path, method, operation, &codes);
                }
                // A call whose body may be of any type (`*/*` among its media types) has no 415.
                let any_type = operation["requestBody"]["content"].get("*/*").is_some();
                if operation.get("requestBody").is_some() && !any_type && operation["responses"].get("415").is_none() {
                    operation["responses"]["415"] = unsupported_media_type();
                }
            }
        }
    }
    doc
}

/// 415 for a body of another type than the call reads.
fn unsupported_media_type() -> Value {
    let example = crate::extract::unsupported_media_type("text/plain").body();
    json!({
        "description": "The body is of another type than the call reads (code 0)",
        "content": { "application/json": {
            "schema": { "$ref": format!("#/components/schemas/{}", ErrorBody::name()) },
            "example": example,
        }},
    })
}

/// Adds the error answers for `codes` to `operation`, grouped by status.
fn add_error_answers(path: &str, method: &str, operation: &mut Value, codes: &[u32]) {
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for &code in codes {
        let code = ErrorCode::from_code(code)
            .unwrap_or_else(|| panic!("{method} {path}: {code} in {ERROR_CODES} is not an error code"));
        by_status.entry(code.status()).or_default().push(code);
    }
    let responses = operation
        .as_object_mut()
        .expect("an operation is an object")
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("responses is an object");
    for (status, codes) in by_status {
        let answer = responses.entry(status.to_string()).or_insert_with(|| json!({ "description": "" }));
        let lines: Vec<String> = codes.iter().map(|c| format!("code {}: {}", c.code(), c.default_message())).collect();
        let description = answer["description"].as_str().unwrap_or_default();
        answer["description"] = Value::String(if description.is_empty() {
            lines.join("; ")
        } else {
            format!("{description}; {}", lines.join("; "))
        });
        let media = &mut answer["content"]["application/json"];
        if media.get("schema").is_none() {
            media["schema"] = json!({ "$ref": format!("#/components/schemas/{}", ErrorBody::name()) });
        }
        for code in codes {
            media["examples"][format!("code {}", code.code())] = json!({
                "summary": code.default_message(),
                "value": { "message": code.default_message(), "code": code.code() },
            });
        }
    }
}

/// `GET {base}/openapi.json` (the finished document) and Swagger UI at `GET {base}/docs`.
pub fn routes<S: Clone + Send + Sync + 'static>(base: &str, doc: Value) -> Router<S> {
    let body = Bytes::from(serde_json::to_vec(&doc).expect("the document serialises"));
    let title = doc["info"]["title"].as_str().unwrap_or("API").to_string();
    let page = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n\
         <link rel=\"icon\" href=\"docs/favicon-32x32.png\">\n<link rel=\"stylesheet\" href=\"docs/swagger-ui.css\">\n\
         </head>\n<body>\n<div id=\"swagger-ui\"></div>\n<script src=\"docs/swagger-ui-bundle.js\"></script>\n\
         <script src=\"docs/init.js\"></script>\n</body>\n</html>\n",
        html_escape(&title)
    );
    let page = Bytes::from(page);
    let docs = format!("{base}/docs");
    Router::new()
        .route(&format!("{base}/openapi.json"), get(move || async move { asset("application/json", body, false) }))
        .route(&docs, get(move || async move { asset("text/html; charset=utf-8", page, false) }))
        .route(&format!("{docs}/"), get(move || async move { Redirect::permanent("../docs") }))
        .route(
            &format!("{docs}/{{file}}"),
            get(|Path(file): Path<String>, uri: Uri| async move {
                let embedded = Bytes::from_static;
                match file.as_str() {
                    "swagger-ui-bundle.js" => asset("text/javascript", embedded(SWAGGER_JS), true),
                    "swagger-ui.css" => asset("text/css", embedded(SWAGGER_CSS), true),
                    "favicon-32x32.png" => asset("image/png", embedded(FAVICON), true),
                    "init.js" => asset("text/javascript", embedded(INIT_JS.as_bytes()), false),
                    _ => ApiError::no_route("GET", uri.path()).into_response(),
                }
            }),
        )
}

/// A document or file answer; the embedded files are served without copying them.
fn asset(content_type: &'static str, body: Bytes, cached: bool) -> Response {
    let cache = if cached { "public, max-age=86400" } else { "no-cache" };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body,
    )
        .into_response()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Checks of a finished document for the services' tests (feature `testing`): its examples
/// against its schemas, and real answers against what the document says of them.
#[cfg(feature = "testing")]
pub mod check {
    use serde_json::{json, Value};

    /// The message of `body` when it is one of the fallbacks' answers (no route for the path,
    /// or not for the method: `ApiError::no_route`, `ApiError::method_not_supported`), so the
    /// call it answers is not served.
    pub fn fallback_message(body: Option<&Value>) -> Option<&str> {
        let message = body?.get("message")?.as_str()?;
        (message.starts_with("No handler found for ") || message.starts_with("Request method '")).then_some(message)
    }

    /// The HTTP methods an OpenAPI path item can hold.
    const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

    /// Every operation of `doc` as `(METHOD, path template)`, sorted.
    pub fn operations(doc: &Value) -> Vec<(String, String)> {
        let mut ops = Vec::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for method in METHODS {
                if item.get(method).is_some() {
                    ops.push((method.to_uppercase(), path.clone()));
                }
            }
        }
        ops.sort();
        ops
    }

    /// The operation object of `method` (any case) at `path` (template).
    pub fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> Option<&'a Value> {
        doc["paths"].get(path)?.get(method.to_lowercase())
    }

    /// `instance` checked against `schema` (JSON Schema 2020-12, as OpenAPI 3.1 uses), whose
    /// `#/components/...` references resolve in `doc`; the errors, empty when it is valid.
    pub fn validate(doc: &Value, schema: &Value, instance: &Value) -> Vec<String> {
        let mut root = match schema {
            Value::Object(_) => schema.clone(),
            Value::Bool(_) => json!({ "allOf": [schema] }),
            _ => return vec![format!("not a schema: {schema}")],
        };
        root["components"] = doc["components"].clone();
        match jsonschema::draft202012::new(&root) {
            Ok(validator) => validator.iter_errors(instance).map(|e| format!("{e} at {}", e.instance_path())).collect(),
            Err(e) => vec![format!("the schema does not compile: {e}")],
        }
    }

    /// Every example in `doc` that does not validate against its schema (component schemas,
    /// parameters, request bodies, answers), as readable lines; empty when all are valid.
    pub fn example_errors(doc: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        let mut check = |place: String, schema: &Value, example: &Value| {
            for e in validate(doc, schema, example) {
                errors.push(format!("{place}: {e}"));
            }
        };
        for (name, schema) in doc["components"]["schemas"].as_object().into_iter().flatten() {
            let reference = json!({ "$ref": format!("#/components/schemas/{name}") });
            for example in schema_examples(schema) {
                check(format!("schema {name}"), &reference, example);
            }
        }
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let at = format!("{} {path}", method.to_uppercase());
                for param in op["parameters"].as_array().into_iter().flatten() {
                    if let Some(example) = param.get("example") {
                        check(format!("{at} parameter {}", param["name"]), &param["schema"], example);
                    }
                }
                for (media, content) in op["requestBody"]["content"].as_object().into_iter().flatten() {
                    for (label, example) in media_examples(content) {
                        check(format!("{at} request {media} {label}"), &content["schema"], example);
                    }
                }
                for (status, answer) in op["responses"].as_object().into_iter().flatten() {
                    for (media, content) in answer["content"].as_object().into_iter().flatten() {
                        for (label, example) in media_examples(content) {
                            check(format!("{at} answer {status} {media} {label}"), &content["schema"], example);
                        }
                    }
                }
            }
        }
        errors
    }

    fn schema_examples(schema: &Value) -> Vec<&Value> {
        let mut examples: Vec<&Value> = schema.get("example").into_iter().collect();
        examples.extend(schema.get("examples").and_then(Value::as_array).into_iter().flatten());
        examples
    }

    fn media_examples(content: &Value) -> Vec<(String, &Value)> {
        let mut examples: Vec<(String, &Value)> =
            content.get("example").map(|e| ("example".to_string(), e)).into_iter().collect();
        for (name, example) in content["examples"].as_object().into_iter().flatten() {
            if let Some(value) = example.get("value") {
                examples.push((format!("example {name:?}"), value));
            }
        }
        examples
    }

    /// What is wrong with a real answer of `status` with `body` (JSON, or `None` for another
    /// type) to `method path` by `doc`: a status the operation does not list, or a body that does
    /// not validate against that status's JSON schema. Empty when the answer is as documented.
    pub fn answer_errors(doc: &Value, method: &str, path: &str, status: u16, body: Option<&Value>) -> Vec<String> {
        let at = format!("{method} {path} answered {status}");
        let Some(op) = operation(doc, method, path) else { return vec![format!("{at}: not in the document")] };
        let responses = &op["responses"];
        let Some(answer) = responses.get(status.to_string()).or_else(|| responses.get(format!("{}XX", status / 100)))
        else {
            return vec![format!("{at}: the document lists only {:?}", keys(responses))];
        };
        match (body, answer["content"].get("application/json")) {
            (Some(body), Some(content)) => {
                validate(doc, &content["schema"], body).into_iter().map(|e| format!("{at} {body}: {e}")).collect()
            }
            (Some(_), None) => {
                vec![format!("{at}: a JSON body where the document lists {:?}", keys(&answer["content"]))]
            }
            (None, _) => Vec::new(),
        }
    }

    fn keys(object: &Value) -> Vec<String> {
        object.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
    }

    /// `path` with each `{name}` replaced by its parameter's example in `op` (or `x`).
    pub fn fill_path(op: &Value, path: &str) -> String {
        let mut filled = path.to_string();
        for param in op["parameters"].as_array().into_iter().flatten() {
            if param["in"] == "path" {
                let name = param["name"].as_str().unwrap_or_default();
                let value = match param.get("example") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => "x".to_string(),
                };
                filled = filled.replace(&format!("{{{name}}}"), &value);
            }
        }
        filled
    }

    /// The example JSON request body of `op` (its own, else its schema's), if it takes one.
    pub fn json_example(doc: &Value, op: &Value) -> Option<Value> {
        let content = op["requestBody"]["content"].get("application/json")?;
        let own = content
            .get("example")
            .cloned()
            .or_else(|| content["examples"].as_object()?.values().find_map(|e| e.get("value").cloned()));
        own.or_else(|| schema_examples(resolve(doc, &content["schema"])?).first().map(|e| (*e).clone()))
    }

    /// `schema` itself, or what its `$ref` points to in `doc`.
    fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> Option<&'a Value> {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => doc.pointer(reference.trim_start_matches('#')),
            None => Some(schema),
        }
    }

    /// The binary fields of `op`'s multipart body (the image parts), if it takes one.
    pub fn multipart_files(doc: &Value, op: &Value) -> Option<Vec<String>> {
        let schema = resolve(doc, &op["requestBody"]["content"].get("multipart/form-data")?["schema"])?;
        Some(
            schema["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(_, p)| p["format"] == "binary" || p["contentMediaType"].is_string())
                .map(|(name, _)| name.clone())
                .collect(),
        )
    }
}
