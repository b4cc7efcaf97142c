//! The links the card gives for a drop's pop-up (SPEC section 3.1): the map, built only from
//! the validated coordinates, and the calendar file the serving server answers. The widget
//! formats the times with the browser's `Intl.DateTimeFormat` in the pop-up's own zone.

use crate::listing::{Popup, number_text};

/// The pop-up on OpenStreetMap, pinned, at street level. Only numbers reach the URL: the
/// coordinates were validated as finite degrees within range (`listing`), and are written
/// without exponent or locale.
pub fn map_url(popup: &Popup) -> String {
    let (lat, lon) = (number_text(popup.lat), number_text(popup.lon));
    format!("https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}")
}

/// The pop-up's iCalendar file on the server that serves the listing (`GET
/// /v1/listings/{id}/popup.ics`), as a path to resolve against that server's origin; the
/// id is a validated listing id (letters, digits, `-`, `_`), so it needs no escaping.
pub fn calendar_path(listing_id: &str) -> String {
    format!("/v1/listings/{listing_id}/popup.ics")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;

    fn popup(lat: f64, lon: f64) -> Popup {
        Popup {
            name: "Croix-Rousse night market".to_string(),
            address: "Place de la Croix-Rousse, 69004 Lyon".to_string(),
            lat,
            lon,
            opens_at: Timestamp(1_764_925_200),
            closes_at: Timestamp(1_764_946_800),
            timezone: "Europe/Paris".to_string(),
        }
    }

    #[test]
    fn map_links_carry_the_coordinates_as_plain_decimals() {
        for (lat, lon, expected) in [
            (
                45.7745,
                4.832,
                "https://www.openstreetmap.org/?mlat=45.7745&mlon=4.832#map=17/45.7745/4.832",
            ),
            (
                -33.8568,
                151.2153,
                "https://www.openstreetmap.org/?mlat=-33.8568&mlon=151.2153#map=17/-33.8568/151.2153",
            ),
            (
                40.0,
                -74.0,
                "https://www.openstreetmap.org/?mlat=40&mlon=-74#map=17/40/-74",
            ),
            (
                0.0000001,
                -180.0,
                "https://www.openstreetmap.org/?mlat=1e-7&mlon=-180#map=17/1e-7/-180",
            ),
        ] {
            assert_eq!(map_url(&popup(lat, lon)), expected);
        }
    }

    #[test]
    fn the_calendar_file_is_under_the_listing() {
        assert_eq!(
            calendar_path("candle-trio"),
            "/v1/listings/candle-trio/popup.ics"
        );
    }
}
