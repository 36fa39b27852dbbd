//! What a race's result means, told to the student on stderr: what was
//! expected, how many updates were lost and why, and what to try next.

use clap::ValueEnum;

use super::flags::RaceArgs;
use super::output::note;
use crate::race::lock::{Lock, LockMode};

impl RaceArgs {
    /// Tell the student, on stderr, what the result `got` means: what was
    /// expected, how many updates were lost and why, what to try next.
    pub fn explain(&self, got: i32, lock: &Lock<'_>) {
        let expected = self.count;
        let lost = expected as i64 - i64::from(got);
        if expected == 1 {
            note(format!(
                "1 child added 1 to the shared int: expected 1, got {got}."
            ));
        } else {
            let (updates, were) = if lost == 1 {
                ("update", "was")
            } else {
                ("updates", "were")
            };
            note(format!(
                "{expected} children each added 1 to the shared int: expected {expected}, got {got}, so {lost} {updates} {were} lost."
            ));
        }
        if self.lock != LockMode::None {
            let name = self
                .lock
                .to_possible_value()
                .map(|v| v.get_name().to_owned())
                .unwrap_or_default();
            if lost == 0 {
                note(format!(
                    "--lock {name}: {}, so no update was lost.",
                    lock.describe()
                ));
            } else {
                note(format!(
                    "--lock {name}: {}, and still {lost} updates were lost. That is a bug: please report it.",
                    lock.describe()
                ));
            }
        } else if expected == 1 {
            note(
                "With one child there is nobody to race with; the default --count 100 shows the race.",
            );
        } else if lost > 0 {
            let step = if self.sleep_us == 0 {
                String::from("wrote back that value + 1 at once")
            } else {
                format!("slept {} µs, wrote back that value + 1", self.sleep_us)
            };
            note(format!(
                "Each child read the int, {step}: a child that read before another's write overwrote it. Fix it: --lock semaphore."
            ));
        } else {
            note(
                "None lost this time, yet nothing prevented it: read and write are still two steps. Run again, or raise --sleep-us.",
            );
        }
    }
}
