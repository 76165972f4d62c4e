//! Text the API refuses at the edge, on both backends alike: NUL characters (PostgreSQL cannot
//! store them, SQLite can — so they are refused everywhere, before anything is written).
//! Commands get the same check, and their other limits, in `domain::input`; a phone's push keeps
//! the plain extractor so that one poisoned command is rejected alone, not its whole batch.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::{web, FromRequest, HttpRequest, ResponseError};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::AppError;

/// A JSON body like `web::Json`, whose strings may not contain NUL (`\u0000`).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Parsed as a value first: the syntax errors and limits stay those of `web::Json` (and
        // its configured error shape); the NUL check then sees every string, keys included.
        let value = web::Json::<Value>::from_request(req, payload);
        Box::pin(async move {
            let value = value.await?.into_inner();
            if let Some(path) = nul_at(&value, "") {
                return Err(nul_error(if path.is_empty() { "body" } else { &path }).into());
            }
            serde_json::from_value(value).map(Json).map_err(|e| {
                AppError::unprocessable(
                    "invalid_field",
                    format!("字段类型或取值不正确 (invalid field): {e}"),
                )
                .into()
            })
        })
    }
}

fn nul_error(field: &str) -> AppError {
    AppError::unprocessable(
        "invalid_text",
        format!("{field} 含有空字符 (\\u0000)，请删除后重试 (contains a NUL character; remove it)"),
    )
}

/// Where the first NUL is, as a dotted path.
fn nul_at(v: &Value, path: &str) -> Option<String> {
    match v {
        Value::String(s) if s.contains('\0') => Some(path.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| nul_at(x, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, x)| {
            // A key is shown escaped: the message must not carry the NUL it complains of.
            let key = k.escape_debug().to_string();
            let here = if path.is_empty() {
                key
            } else {
                format!("{path}.{key}")
            };
            if k.contains('\0') {
                Some(here)
            } else {
                nul_at(x, &here)
            }
        }),
        _ => None,
    }
}

/// What `refuse_nul_in_uri` answers: at once (a refusal), or the rest of the chain's answer.
pub type NulCheck<F, B> = futures_util::future::Either<
    std::future::Ready<Result<ServiceResponse<EitherBody<B>>, actix_web::Error>>,
    futures_util::future::MapOk<F, fn(ServiceResponse<B>) -> ServiceResponse<EitherBody<B>>>,
>;

/// Refuse a NUL in the path or the query string (`%00`) before any handler runs: ids, filters
/// and names reach the database from there. For `App::wrap_fn`: a plain future (no
/// `middleware::from_fn`, which boxes one more future per request, held by every waiting
/// long-poll for its whole wait — docs/benchmarks.md, "Footprint").
pub fn refuse_nul_in_uri<S, B>(req: ServiceRequest, srv: &S) -> NulCheck<S::Future, B>
where
    S: actix_web::dev::Service<
        ServiceRequest,
        Response = ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: MessageBody,
{
    use futures_util::TryFutureExt;
    let has_nul = |s: &str| s.to_ascii_lowercase().contains("%00");
    let uri = req.uri();
    let bad = if has_nul(uri.path()) {
        Some("path")
    } else if uri.query().is_some_and(has_nul) {
        Some("query")
    } else {
        None
    };
    if let Some(part) = bad {
        let resp = nul_error(part).error_response();
        return futures_util::future::Either::Left(std::future::ready(Ok(req
            .into_response(resp)
            .map_into_right_body())));
    }
    let into_left: fn(ServiceResponse<B>) -> ServiceResponse<EitherBody<B>> =
        ServiceResponse::map_into_left_body;
    futures_util::future::Either::Right(srv.call(req).map_ok(into_left))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_is_found_at_any_depth_and_named() {
        let v: Value =
            serde_json::from_str(r#"{"a": [1, {"b": "ok"}, {"c": "x\u0000y"}], "d": "fine"}"#)
                .unwrap_or_default();
        assert_eq!(nul_at(&v, "").as_deref(), Some("a[2].c"));
        let clean: Value =
            serde_json::from_str(r#"{"a": ["\\u0000 as text"]}"#).unwrap_or_default();
        assert_eq!(nul_at(&clean, ""), None);
    }
}
