//! GridDispatch patch (see `vendor/README.md`): a body for the responses the h1 dispatcher
//! writes on its own, before any service runs — 431 for a request head over the buffer, 400 for
//! a head that does not parse, 408 for a head that never finished, 500 for a broken payload.
//! Upstream sends them with an empty body and offers no hook; an application that promises one
//! error shape on every path installs a function here once, at start-up.

use std::sync::OnceLock;

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};

use crate::{body::BoxBody, Response};

/// Makes the body of a dispatcher error: the content type and the bytes, or `None` for none.
pub type ErrorBodyFn = fn(StatusCode) -> Option<(&'static str, Bytes)>;

static HOOK: OnceLock<ErrorBodyFn> = OnceLock::new();

/// Install the function that makes the bodies of the dispatcher's own error responses. Only the
/// first call counts; returns whether this one did.
pub fn set_error_body(f: ErrorBodyFn) -> bool {
    HOOK.set(f).is_ok()
}

/// The body for a dispatcher error response, setting its content type and length.
pub(crate) fn body_for(res: &mut Response<()>) -> BoxBody {
    let Some((ctype, bytes)) = HOOK.get().and_then(|f| f(res.status())) else {
        return BoxBody::new(());
    };
    if let Ok(v) = HeaderValue::from_str(ctype) {
        res.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    BoxBody::new(bytes)
}
