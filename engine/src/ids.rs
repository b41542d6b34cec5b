//! Seeded id generation: table ids, request ids and labels are reproducible when seeded.

use std::sync::Mutex;

/// A splitmix64 generator behind a lock; deterministic for a given seed.
#[derive(Debug)]
pub struct IdSource {
    state: Mutex<u64>,
}

impl IdSource {
    /// A generator starting from `seed`.
    pub fn seeded(seed: u64) -> Self {
        IdSource {
            state: Mutex::new(seed),
        }
    }

    /// A generator seeded from the wall clock and process id.
    pub fn random() -> Self {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        IdSource::seeded(t ^ (u64::from(std::process::id()) << 32))
    }

    /// The next 64 random bits.
    pub fn next_u64(&self) -> u64 {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A version-4 UUID string.
    pub fn uuid(&self) -> String {
        let (a, b) = (self.next_u64(), self.next_u64());
        let a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
        let b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0xFFFF,
            b >> 48,
            b & 0xFFFF_FFFF_FFFF
        )
    }
}

/// Formats a timestamp as `YYYY-MM-DDTHH:MM:SS.mmm` (UTC), the form of stream labels.
pub fn iso8601_millis(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ids_repeat() {
        assert_eq!(IdSource::seeded(7).uuid(), IdSource::seeded(7).uuid());
        assert_ne!(IdSource::seeded(7).uuid(), IdSource::seeded(8).uuid());
        assert_eq!(IdSource::seeded(1).uuid().len(), 36);
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601_millis(0), "1970-01-01T00:00:00.000");
        assert_eq!(iso8601_millis(1_704_067_200_123), "2024-01-01T00:00:00.123");
        assert_eq!(iso8601_millis(951_825_600_000), "2000-02-29T12:00:00.000");
    }
}
