//! Quiet hours: when a marketing SMS may go out, per jurisdiction.
//!
//! France: operators hold marketing SMS sent between 22:00 and 08:00, on Sundays and on
//! public holidays (Fédération Française des Télécoms / AF2M code of conduct for SMS
//! marketing, as the CNIL's page on SMS prospection summarises it:
//! cnil.fr/fr/la-prospection-commerciale-par-sms-mms [S]). Public holidays: Code du
//! travail art. L3133-1 (Alsace-Moselle's two extra days are not counted here).
//! Other jurisdictions: no rule known here, so no quiet hours are applied (and the answer
//! says so). Times are computed in the jurisdiction's time zone with jiff's bundled
//! time zone database, so a server's own zone or missing tzdata changes nothing.
//!
//! The double opt-in SMS is not marketing: the visitor just asked for it, and it goes at
//! once.

use jiff::civil::{Date, Weekday, date};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// A jurisdiction's rule.
#[derive(Debug, Clone, Copy)]
pub struct QuietRule {
    /// Its time zone (IANA).
    pub zone: &'static str,
    /// First hour marketing SMS may go out.
    pub from_hour: i8,
    /// The hour from which they may not.
    pub until_hour: i8,
    /// Whether Sundays are quiet.
    pub sunday: bool,
    /// Its public holidays in a year.
    pub holidays: fn(i16) -> Vec<Date>,
}

/// The rule of a jurisdiction (ISO 3166-1 alpha-2), when one is known.
pub fn rule(jurisdiction: &str) -> Option<QuietRule> {
    match jurisdiction {
        "FR" => Some(QuietRule {
            zone: "Europe/Paris",
            from_hour: 8,
            until_hour: 22,
            sunday: true,
            holidays: french_holidays,
        }),
        _ => None,
    }
}

/// Easter Sunday of `year` (Gregorian; the anonymous algorithm of Meeus, "Astronomical
/// Algorithms", ch. 8). Hand-written: jiff has no holiday calendar, and this is ten lines.
fn easter(year: i16) -> Option<Date> {
    let y = i32::from(year);
    let (a, b, c) = (y % 19, y / 100, y % 100);
    let (d, e) = (b / 4, b % 4);
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

/// The eleven French public holidays of `year` (Code du travail art. L3133-1).
fn french_holidays(year: i16) -> Vec<Date> {
    let mut days = vec![
        date(year, 1, 1),   // Jour de l'an
        date(year, 5, 1),   // Fête du travail
        date(year, 5, 8),   // Victoire 1945
        date(year, 7, 14),  // Fête nationale
        date(year, 8, 15),  // Assomption
        date(year, 11, 1),  // Toussaint
        date(year, 11, 11), // Armistice
        date(year, 12, 25), // Noël
    ];
    if let Some(e) = easter(year) {
        // Lundi de Pâques, Ascension, Lundi de Pentecôte.
        days.extend([1, 39, 50].iter().filter_map(|n| e.checked_add(n.days()).ok()));
    }
    days
}

/// Whether a marketing SMS may go now, and from when if not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// May it go now.
    pub send_now: bool,
    /// The first moment it may (now, when it may go now), Unix seconds.
    pub next_send_at: i64,
}

/// The window of `rule` at `now` (Unix seconds).
pub fn window(rule: &QuietRule, now: i64) -> Option<Window> {
    let tz = TimeZone::get(rule.zone).ok()?;
    let here = Timestamp::from_second(now).ok()?.to_zoned_datetime(tz.clone());
    let quiet_day = |d: Date| (rule.sunday && d.weekday() == Weekday::Sunday) || (rule.holidays)(d.year()).contains(&d);
    let today = here.date();
    if !quiet_day(today) && (rule.from_hour..rule.until_hour).contains(&here.hour()) {
        return Some(Window { send_now: true, next_send_at: now });
    }
    // The first day from today (if it is not yet morning) that is not quiet, at the opening hour.
    let mut day = if here.hour() < rule.from_hour { today } else { today.tomorrow().ok()? };
    for _ in 0..14 {
        if !quiet_day(day) {
            let at = day.at(rule.from_hour, 0, 0, 0).to_zoned_datetime(tz).ok()?.timestamp().as_second();
            return Some(Window { send_now: false, next_send_at: at });
        }
        day = day.tomorrow().ok()?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paris(s: &str) -> i64 {
        s.parse::<jiff::ZonedDateTime>().unwrap().timestamp().as_second()
    }

    fn fr(at: &str) -> Window {
        window(&rule("FR").unwrap(), paris(at)).unwrap()
    }

    #[test]
    fn easter_falls_on_the_known_dates() {
        assert_eq!(easter(2025), Some(date(2025, 4, 20)));
        assert_eq!(easter(2026), Some(date(2026, 4, 5)));
        assert_eq!(easter(2027), Some(date(2027, 3, 28)));
    }

    #[test]
    fn a_weekday_afternoon_in_paris_may_send_now() {
        let w = fr("2026-12-02T15:00[Europe/Paris]");
        assert!(w.send_now);
    }

    #[test]
    fn after_ten_at_night_the_next_window_is_eight_the_next_morning() {
        let w = fr("2026-12-02T22:30[Europe/Paris]");
        assert_eq!((w.send_now, w.next_send_at), (false, paris("2026-12-03T08:00[Europe/Paris]")));
        let w = fr("2026-12-03T06:00[Europe/Paris]");
        assert_eq!(w.next_send_at, paris("2026-12-03T08:00[Europe/Paris]"));
    }

    #[test]
    fn sundays_and_public_holidays_are_quiet_all_day() {
        // Saturday night 23:00 -> Monday 08:00 (Sunday is quiet).
        let w = fr("2026-12-05T23:00[Europe/Paris]");
        assert_eq!(w.next_send_at, paris("2026-12-07T08:00[Europe/Paris]"));
        // Christmas Day, a Friday, at noon -> Saturday 08:00.
        let w = fr("2026-12-25T12:00[Europe/Paris]");
        assert_eq!((w.send_now, w.next_send_at), (false, paris("2026-12-26T08:00[Europe/Paris]")));
        // Easter Monday 2026 (6 April) is a holiday.
        assert!(!fr("2026-04-06T10:00[Europe/Paris]").send_now);
    }

    #[test]
    fn a_jurisdiction_without_known_rules_has_none() {
        assert!(rule("DE").is_none());
    }
}
