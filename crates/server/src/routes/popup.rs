//! `GET /v1/listings/{id}/popup.ics`: the drop's pop-up as an iCalendar file (RFC 5545), for
//! the card's *Add to calendar* link. Core writes the file; this only finds the listing.
//! No auth and no CORS check: the link is navigated to (a download), not fetched by a page,
//! and it says nothing the listing document does not.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::AppError;

#[utoipa::path(
    get, path = "/v1/listings/{id}/popup.ics", tag = "listings", operation_id = "get_popup_calendar",
    description = "The drop's pop-up as an RFC 5545 calendar file: one `VEVENT` with `DTSTART`/`DTEND` in UTC, `LOCATION`, `GEO`, a `UID` stable for the listing (whatever its times), and `SEQUENCE`/`LAST-MODIFIED` from the listing's last update, so a calendar replaces an earlier import when the pop-up moves. No auth.",
    params(("id" = String, Path, description = "The listing id.")),
    responses(
        (status = 200, description = "The calendar file (`Content-Disposition: inline`, so iOS opens it in Calendar).", content_type = "text/calendar", body = String),
        (status = 404, description = "`not_found`: no such listing, or the listing has no pop-up.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn calendar(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let lookup = id.clone();
    let stored = state
        .store(move |store| store.listing(&lookup))
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no listing \"{id}\"")))?;
    // Stored documents passed core's validation when they were put.
    let listing = mighty_core::parse_listing(&stored.document.to_string())
        .map_err(|errors| AppError::Internal(format!("stored listing {id}: {errors}")))?;
    let now = state.now_for(&stored.seller_id);
    let revision = mighty_core::icalendar::CalendarRevision {
        seller_id: &stored.seller_id,
        updated_at: mighty_core::Timestamp(stored.updated_at),
    };
    let file =
        mighty_core::icalendar::popup_calendar(&listing, revision, now).ok_or_else(|| {
            AppError::NotFound(format!(
                "listing \"{id}\" has no pop-up; a seller adds one as drop.popup"
            ))
        })?;
    let mut response = file.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    // Listing ids are `[A-Za-z0-9_-]`: safe inside the quoted file name. `inline`, not
    // `attachment`: iOS then opens the file in Calendar instead of offering to save it.
    if let Ok(disposition) =
        HeaderValue::from_str(&format!("inline; filename=\"{}-popup.ics\"", listing.id))
    {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}
