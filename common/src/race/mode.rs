//! `--lock MODE`, in one table: each mode's name, what it does (the help),
//! and what it puts around the critical section (the explanation after a
//! run). `--lock semaphore` is each family's own semaphore: [`Family`]
//! holds, once, what each one is. A new mode is a variant and a row here,
//! and a branch in each `match` of lock.rs that makes, joins, describes
//! or takes a lock (`Lock::create`, `Lock::join`, `Lock::describe`,
//! `Lock::mode`, `Lock::enter`).

use clap::builder::PossibleValue;

/// How the children's critical section is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LockMode {
    /// No protection: the article's race.
    #[default]
    None,
    /// The increment becomes one atomic fetch_add; the pause stays outside.
    Atomic,
    /// An exclusive flock(2) on a lock file around read, pause, write.
    Flock,
    /// This program's own kind of semaphore around read, pause, write.
    Semaphore,
}

/// Every mode: its name on the command line, its help, and what it puts
/// around the critical section (empty for the semaphore: see [`Family`]).
const MODES: [(LockMode, &str, &str, &str); 4] = [
    (
        LockMode::None,
        "none",
        "nothing, the article's race: updates are lost.",
        "nothing",
    ),
    (
        LockMode::Atomic,
        "atomic",
        "the read and the write become one fetch_add (the pause stays, before it).",
        "one atomic fetch_add per child instead of read, pause, write",
    ),
    (
        LockMode::Flock,
        "flock",
        "an exclusive flock(2) on this run's own file, $TMPDIR/PROGRAM.RANDOM.lock.",
        "an exclusive flock(2) on",
    ),
    (LockMode::Semaphore, "semaphore", "", ""),
];

impl LockMode {
    fn row(self) -> (&'static str, &'static str, &'static str) {
        let (_, name, help, protects) = MODES
            .iter()
            .find(|row| row.0 == self)
            .expect("every mode has a row");
        (name, help, protects)
    }

    /// The mode as the flag spells it: `semaphore`.
    pub fn name(self) -> &'static str {
        self.row().0
    }

    /// What the mode puts around the critical section, in a few words (the
    /// flock's file and the semaphore are named by `Lock::describe`).
    pub(crate) fn protects(self) -> &'static str {
        self.row().2
    }
}

impl clap::ValueEnum for LockMode {
    fn value_variants<'a>() -> &'a [Self] {
        static ALL: [LockMode; MODES.len()] = [MODES[0].0, MODES[1].0, MODES[2].0, MODES[3].0];
        &ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()))
    }
}

/// The three families of shared memory, each with its own semaphore for
/// `--lock semaphore`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// racing_mmap: anonymous memory, an unnamed semaphore in it.
    Mmap,
    /// racing_xsi_shm: System V, a semaphore set under the same key.
    Xsi,
    /// racing_posix_shm: POSIX, a named semaphore of the same name.
    Posix,
}

/// A family's semaphore: what it is, the calls that use it, a few words
/// for the short help, and the rest of the long help.
struct Semaphore {
    what: &'static str,
    calls: &'static str,
    short: &'static str,
    more: &'static str,
}

impl Family {
    fn semaphore(self) -> Semaphore {
        match self {
            Family::Mmap => Semaphore {
                what: "an unnamed POSIX semaphore in the shared mapping",
                calls: "sem_init with pshared=1, sem_wait, sem_post",
                short: "sem_init in the mapping",
                more: "It lies after the int, shared as the memory is: with the children forked \
                       after the mmap. A child that dies holding it never gives it back.",
            },
            Family::Xsi => Semaphore {
                what: "a System V semaphore set",
                calls: "semget, semop with SEM_UNDO",
                short: "a System V semaphore set",
                more: "A set of one under the segment's ftok key; ipcs -s lists it. The kernel \
                       undoes the semop of a child that dies holding it.",
            },
            Family::Posix => Semaphore {
                what: "the named POSIX semaphore",
                calls: "sem_open, sem_wait, sem_post, sem_unlink",
                short: "a named one, sem_open",
                more: "It has the memory's name: the file /dev/shm/sem.NAME. A child that dies \
                       holding it never gives it back.",
            },
        }
    }

    /// The family's semaphore for the explanation after a run: `detail`
    /// names this run's (a set's id and key, a file), or is empty.
    pub(crate) fn describe(self, detail: &str) -> String {
        let Semaphore { what, calls, .. } = self.semaphore();
        match detail {
            "" => format!("{what} ({calls})"),
            detail => format!("{what} {detail} ({calls})"),
        }
    }
}

/// The `--lock` help of a racing program, naming its family's semaphore:
/// `#[command(mut_arg("lock", lock_help(Family::Mmap)))]`.
pub fn lock_help(family: Family) -> impl FnOnce(clap::Arg) -> clap::Arg {
    let Semaphore {
        what,
        calls,
        short,
        more,
    } = family.semaphore();
    let modes: Vec<String> = MODES
        .iter()
        .map(|(mode, name, help, _)| match mode {
            LockMode::Semaphore => format!("{name}: {what} ({calls}). {more}"),
            LockMode::None => format!("{name} (the default): {help}"),
            _ => format!("{name}: {help}"),
        })
        .collect();
    move |arg| {
        arg.hide_possible_values(true)
            .hide_default_value(true)
            .help(format!(
                "none (default), atomic, flock, semaphore ({short})"
            ))
            .long_help(format!(
                "What protects each child's read, pause, write:\n{}\n\
                 Every mode but none gives exactly --count.",
                modes.join("\n")
            ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn every_mode_parses_from_its_name_and_has_one_row() {
        for mode in LockMode::value_variants() {
            assert_eq!(LockMode::from_str(mode.name(), false), Ok(*mode));
        }
        assert_eq!(MODES.len(), LockMode::value_variants().len());
    }

    #[test]
    fn the_help_names_every_mode_and_the_familys_semaphore() {
        let arg = lock_help(Family::Xsi)(clap::Arg::new("lock"));
        let long = arg.get_long_help().unwrap().to_string();
        for name in ["none (the default):", "atomic:", "flock:", "semaphore:"] {
            assert!(long.contains(name), "{long}");
        }
        assert!(long.contains("semop with SEM_UNDO"), "{long}");
        assert_eq!(
            Family::Posix.describe("/dev/shm/sem.shm"),
            "the named POSIX semaphore /dev/shm/sem.shm (sem_open, sem_wait, sem_post, sem_unlink)"
        );
    }
}
