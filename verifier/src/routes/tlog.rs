//! The transparency log, public: `GET /log/checkpoint` (the latest C2SP checkpoint, a
//! signed note), `GET /log/tile/{level}/{index…}` (C2SP tlog-tiles hash tiles, height 8,
//! and `tile/entries/{index…}`, the leaves themselves; full tiles never change and are
//! cached for a year) and `GET /log/consistency?from=N`
//! (a consistency proof from the tree of N leaves to the latest, with both checkpoints).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::consent::tlog;
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) async fn checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    let (_, note) = tlog::latest(&state).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], note)
        .into_response())
}

/// A tile's index as C2SP writes it: groups of three digits, all but the last with an `x`
/// (`x001/x234/067`), and `.p/<width>` for a partial tile.
fn parse_index(path: &str) -> Option<(u64, Option<u32>)> {
    let (path, width) = match path.split_once(".p/") {
        Some((p, w)) => {
            let v: u32 = w.parse().ok()?;
            if !(1..256).contains(&v) || v.to_string() != w {
                return None;
            }
            (p, Some(v))
        }
        None => (path, None),
    };
    let groups: Vec<&str> = path.split('/').collect();
    let (last, rest) = groups.split_last()?;
    let digits =
        |g: &str| (g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit())).then(|| g.parse::<u64>().ok()).flatten();
    let mut n = 0u64;
    for g in rest {
        n = n.checked_mul(1000)?.checked_add(digits(g.strip_prefix('x')?)?)?;
    }
    n = n.checked_mul(1000)?.checked_add(digits(last)?)?;
    Some((n, width))
}

pub(crate) async fn tile(
    State(state): State<AppState>,
    Path((level, rest)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let missing = || ApiError::not_found("the log has no such tile (yet)");
    let (index, width) = parse_index(&rest).ok_or_else(missing)?;
    let data = match level.as_str() {
        "entries" => tlog::entries(&state, index, width).await?,
        _ => {
            let level: u8 = level.parse().ok().filter(|l| *l < 8 && level.len() == 1).ok_or_else(missing)?;
            tlog::tile(&state, level, index, width).await?
        }
    };
    let data = data.ok_or_else(missing)?;
    let cache = if width.is_none() { "public, max-age=31536000, immutable" } else { "no-cache" };
    Ok(([(header::CONTENT_TYPE, "application/octet-stream"), (header::CACHE_CONTROL, cache)], data).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct From {
    from: u64,
}

pub(crate) async fn consistency(State(state): State<AppState>, Query(q): Query<From>) -> Result<Response, ApiError> {
    let Some((old, new, proof)) = tlog::consistency(&state, q.from).await? else {
        return Err(ApiError::not_found("the log published no checkpoint of that size"));
    };
    Ok(Json(serde_json::json!({"old": old, "new": new, "proof": proof})).into_response())
}

#[cfg(test)]
mod tests {
    use super::parse_index;

    #[test]
    fn tile_indexes_read_as_c2sp_writes_them_and_nothing_else() {
        assert_eq!(parse_index("000"), Some((0, None)));
        assert_eq!(parse_index("x001/x234/067"), Some((1_234_067, None)));
        assert_eq!(parse_index("005.p/17"), Some((5, Some(17))));
        for bad in ["", "5", "0005", "x001", "001/002", "x01/002", "005.p/0", "005.p/256", "005.p/017", "../etc"] {
            assert_eq!(parse_index(bad), None, "{bad}");
        }
    }
}
