//! `GET /v1/admin/stats/stages`: the CPU time each stage of the work took since the process
//! started, and the writer's batches (see [`crate::stages`]). Only with `serve
//! --stage-timings`: otherwise there is nothing to show, and the answer is `404 not-found`.

use axum::Json;
use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::{ApiError, Code};
use crate::stages;

/// No parameters: one given is a mistake worth saying (`400 malformed-request`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoParameters {}

pub(crate) async fn stages(Query(_): Query<NoParameters>) -> Result<Response, ApiError> {
    if !stages::enabled() {
        return Err(ApiError::new(
            Code::NotFound,
            "stage timings are off: start the verifier with --stage-timings (or CONSENT_STAGE_TIMINGS=true)",
        ));
    }
    Ok(Json(stages::snapshot()).into_response())
}
