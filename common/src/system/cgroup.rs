//! This process's memory cgroup: how much more memory it may charge before
//! the kernel's OOM killer ends it.
//!
//! MemAvailable speaks for the whole machine. In a container, a systemd
//! slice or a CI runner with a memory limit, the cgroup runs out first: a
//! 512 MiB `bzero` in a 256 MiB container is killed halfway, and the System
//! V segment or /dev/shm object it was zeroing outlives it (tmpfs pages stay
//! charged to the cgroup, and nobody is left to remove them). So the memory
//! demos ask here too, before they create anything.
//!
//! Both hierarchies are read, because both are still in use: cgroup v2
//! (one `0::/path` line in /proc/self/cgroup; `memory.max`,
//! `memory.current`) and v1 (the line whose controllers include `memory`;
//! `memory.limit_in_bytes`, `memory.usage_in_bytes`). A limit binds at every
//! level, so every ancestor up to the mount's root is read, and the one
//! leaving the least room wins. Where a hierarchy is mounted comes from
//! /proc/self/mountinfo, not an assumed /sys/fs/cgroup.
//!
//! Like the other readers, nothing here is an error: a file that is missing
//! or unreadable means "no limit known" (`None`), and the demo falls back on
//! MemAvailable alone.
//!
//! ```text
//! $ cat /proc/self/cgroup              # v1 memory controller, v2 for the rest
//! 4:memory:/user.slice
//! 0::/user.slice/session-3.scope
//! $ cat /sys/fs/cgroup/memory/user.slice/memory.limit_in_bytes
//! 268435456
//! ```

use std::path::{Component, Path, PathBuf};

/// A v1 limit at or above this is "no limit": v1 shows an unset limit as
/// the largest page-aligned `i64` (9223372036854771712), not as a word.
const V1_UNLIMITED: u64 = 1 << 62;

/// Which cgroup hierarchy holds the memory controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// The legacy per-controller hierarchies (`cgroup` mounts).
    V1,
    /// The unified hierarchy (`cgroup2` mount).
    V2,
}

/// Where this process sits in one hierarchy that can hold the memory
/// controller: the mount point, and its own cgroup's directory under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub version: Version,
    /// The hierarchy's mount point (its root, as far as this process sees).
    pub mount: PathBuf,
    /// This process's cgroup: the mount point itself when the path of
    /// /proc/self/cgroup does not lead anywhere under it (see [`places`]).
    pub dir: PathBuf,
}

/// The memory cgroup whose limit leaves this process the least room, and
/// the numbers of that room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub version: Version,
    /// The cgroup whose limit this is (this process's own, or an ancestor).
    pub dir: PathBuf,
    /// Where the limit was read, as a user would `cat` it: `memory.max`,
    /// `memory.limit_in_bytes`, or v1's `hierarchical_memory_limit` (a line
    /// of memory.stat).
    pub setting: &'static str,
    /// The limit, in bytes.
    pub limit: u64,
    /// What the cgroup is charged now (memory.current, memory.usage_in_bytes).
    pub usage: u64,
    /// The part of `usage` that is inactive file cache (memory.stat).
    pub reclaimable: u64,
}

impl Limit {
    /// How much more this cgroup can be charged before its OOM killer
    /// runs: limit − usage + inactive file cache, never below 0.
    ///
    /// Inactive file cache is counted as room because the kernel reclaims
    /// it (drops clean pages, writes back dirty ones) when the cgroup nears
    /// its limit, before it calls the OOM killer — just as MemAvailable
    /// counts reclaimable page cache for the machine. Without it, a cgroup
    /// that once read a big file would look full though it is not. Active
    /// cache and tmpfs pages (shared memory itself) are not counted: they
    /// cannot be dropped so readily, and tmpfs has no disk to drop to.
    pub fn room(&self) -> u64 {
        self.limit
            .saturating_add(self.reclaimable)
            .saturating_sub(self.usage)
    }

    /// What the cgroup holds that it cannot simply drop: usage less the
    /// inactive file cache, so that `limit − in_use = room`.
    pub fn in_use(&self) -> u64 {
        self.usage.saturating_sub(self.reclaimable)
    }
}

/// The tightest memory cgroup limit over this process's cgroup and its
/// ancestors, v1 or v2; `None` if there is none, or none could be read.
pub fn limit() -> Option<Limit> {
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    limit_from(&cgroup, &mountinfo)
}

/// This process's places in the hierarchies that can hold the memory
/// controller (see [`places`]), from the live /proc files.
pub fn own_places() -> Vec<Place> {
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    places(&cgroup, &mountinfo)
}

/// [`limit`] from the texts of /proc/self/cgroup and /proc/self/mountinfo;
/// the cgroup files are read under the mount points that `mountinfo`
/// names (so a test can point it at a directory of its own).
pub fn limit_from(cgroup: &str, mountinfo: &str) -> Option<Limit> {
    places(cgroup, mountinfo)
        .iter()
        .filter_map(tightest)
        .min_by_key(Limit::room)
}

/// Where this process's cgroup directories are, in the v2 hierarchy and
/// in the v1 hierarchy that has the memory controller (whichever are
/// mounted).
///
/// The path in /proc/self/cgroup is relative to the root of this
/// process's cgroup namespace, and mountinfo's root field of a cgroup
/// mount is relative to it too, so the directory is the mount point plus
/// the path less that root. In a container with its own cgroup namespace
/// the path is `/`; in one without, it may name a cgroup of the host
/// that is not under the container's mount at all. In both cases the
/// container's cgroup is the mount's root, which is what is used then.
pub fn places(cgroup: &str, mountinfo: &str) -> Vec<Place> {
    let mounts: Vec<Mount> = mountinfo.lines().filter_map(Mount::parse).collect();
    let mut found = Vec::new();
    for line in cgroup.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let version = if id == "0" && controllers.is_empty() {
            Version::V2
        } else if controllers.split(',').any(|c| c == "memory") {
            Version::V1
        } else {
            continue;
        };
        let candidates: Vec<&Mount> = mounts.iter().filter(|m| m.holds(version)).collect();
        // Several mounts of one hierarchy (bind mounts): the one whose
        // root the path is under, else the first.
        let Some(mount) = candidates
            .iter()
            .find(|m| Path::new(path).starts_with(&m.root))
            .or(candidates.first())
        else {
            continue;
        };
        found.push(Place {
            version,
            mount: mount.point.clone(),
            dir: dir_of(mount, path),
        });
    }
    found
}

/// The limit leaving the least room between `place.dir` and the mount's
/// root, both included; `None` if no level has a limit that could be read.
fn tightest(place: &Place) -> Option<Limit> {
    let mut limits = Vec::new();
    let mut dir = place.dir.clone();
    loop {
        limits.extend(match place.version {
            Version::V2 => level_v2(&dir),
            Version::V1 => level_v1(&dir),
        });
        if dir == place.mount || !dir.pop() {
            break;
        }
    }
    if place.version == Version::V1 {
        limits.extend(hierarchical_v1(&place.dir));
    }
    limits.into_iter().min_by_key(Limit::room)
}

/// One v2 cgroup's own limit. memory.max is "max" when unset, and absent
/// in the root cgroup and where the parent has not enabled the controller.
fn level_v2(dir: &Path) -> Option<Limit> {
    let max = read(dir, "memory.max")?;
    if max == "max" {
        return None;
    }
    Some(Limit {
        version: Version::V2,
        dir: dir.to_owned(),
        setting: "memory.max",
        limit: max.parse().ok()?,
        usage: read(dir, "memory.current")?.parse().ok()?,
        reclaimable: stat(dir, "inactive_file").unwrap_or(0),
    })
}

/// One v1 cgroup's own limit. Its usage and `total_inactive_file` include
/// its descendants' (the hierarchy is always on in current kernels).
fn level_v1(dir: &Path) -> Option<Limit> {
    let limit: u64 = read(dir, "memory.limit_in_bytes")?.parse().ok()?;
    if limit >= V1_UNLIMITED {
        return None;
    }
    Some(Limit {
        version: Version::V1,
        dir: dir.to_owned(),
        setting: "memory.limit_in_bytes",
        limit,
        usage: read(dir, "memory.usage_in_bytes")?.parse().ok()?,
        reclaimable: reclaimable_v1(dir),
    })
}

/// v1's memory.stat names the tightest limit of all ancestors, even those
/// above the mount's root that a container cannot see. Their usage is not
/// visible, so this cgroup's own stands in for it: a room that may be too
/// generous, but better than none where no visible level has a limit.
fn hierarchical_v1(dir: &Path) -> Option<Limit> {
    let limit = stat(dir, "hierarchical_memory_limit")?;
    if limit >= V1_UNLIMITED {
        return None;
    }
    Some(Limit {
        version: Version::V1,
        dir: dir.to_owned(),
        setting: "hierarchical_memory_limit",
        limit,
        usage: read(dir, "memory.usage_in_bytes")?.parse().ok()?,
        reclaimable: reclaimable_v1(dir),
    })
}

fn reclaimable_v1(dir: &Path) -> u64 {
    stat(dir, "total_inactive_file")
        .or_else(|| stat(dir, "inactive_file"))
        .unwrap_or(0)
}

/// A cgroup file's content, trimmed.
fn read(dir: &Path, file: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(file))
        .ok()
        .map(|s| s.trim().to_owned())
}

/// A field of memory.stat (`inactive_file 2101248`).
fn stat(dir: &Path, field: &str) -> Option<u64> {
    read(dir, "memory.stat")?.lines().find_map(|line| {
        let (name, value) = line.split_once(' ')?;
        (name == field).then(|| value.trim().parse().ok())?
    })
}

/// The directory of cgroup `path` under `mount`, or the mount's root if
/// the path is not under it, climbs out of it (`/../..`: a process outside
/// the namespace's root) or names no directory there.
fn dir_of(mount: &Mount, path: &str) -> PathBuf {
    let inside = Path::new(path)
        .strip_prefix(&mount.root)
        .ok()
        .filter(|rest| rest.components().all(|c| matches!(c, Component::Normal(_))))
        // Joining "" would add a trailing slash to what messages show.
        .map(|rest| match rest.as_os_str().is_empty() {
            true => mount.point.clone(),
            false => mount.point.join(rest),
        })
        .filter(|dir| dir.is_dir());
    inside.unwrap_or_else(|| mount.point.clone())
}

/// One cgroup mount, from a line of /proc/self/mountinfo:
/// `35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory`.
#[derive(Debug)]
struct Mount {
    /// Which cgroup the mount's root is, relative to this process's namespace.
    root: PathBuf,
    point: PathBuf,
    fstype: String,
    options: String,
}

impl Mount {
    fn parse(line: &str) -> Option<Mount> {
        let fields: Vec<&str> = line.split(' ').collect();
        let dash = fields.iter().position(|f| *f == "-")?;
        Some(Mount {
            root: PathBuf::from(unescape(fields.get(3)?)),
            point: PathBuf::from(unescape(fields.get(4)?)),
            fstype: (*fields.get(dash + 1)?).to_owned(),
            options: (*fields.get(dash + 3)?).to_owned(),
        })
    }

    /// Whether this mount is the v2 hierarchy, or the v1 hierarchy with
    /// the memory controller (a super option `memory`).
    fn holds(&self, version: Version) -> bool {
        match version {
            Version::V2 => self.fstype == "cgroup2",
            Version::V1 => {
                self.fstype == "cgroup" && self.options.split(',').any(|o| o == "memory")
            }
        }
    }
}

/// mountinfo writes a space, tab, newline and backslash in a path as
/// `\040`, `\011`, `\012`, `\134`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match octal {
            Some(d) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    /// A private directory for one test, removed at the end: the fixture
    /// cgroup trees are built in it.
    struct Dir(PathBuf);

    impl Dir {
        fn new(what: &str) -> Dir {
            let dir = std::env::temp_dir().join(format!(
                "shm-lessons-unit-{}-{}-cgroup-{what}",
                nix::unistd::Uid::effective(),
                std::process::id()
            ));
            std::fs::create_dir(&dir).expect("a fresh directory");
            Dir(dir)
        }

        /// Write `files` (name, content) into `sub`, creating it.
        fn cgroup(&self, sub: &str, files: &[(&str, String)]) -> PathBuf {
            let dir = self.0.join(sub);
            std::fs::create_dir_all(&dir).unwrap();
            for (name, content) in files {
                std::fs::write(dir.join(name), format!("{content}\n")).unwrap();
            }
            dir
        }

        /// A mountinfo line mounting `sub` of this directory, with mountinfo's
        /// escapes, as `fstype` with super options `options`.
        fn mount(&self, sub: &str, fstype: &str, options: &str) -> String {
            let point = self.0.join(sub).display().to_string().replace(' ', "\\040");
            format!("35 31 0:32 / {point} rw,relatime - {fstype} {fstype} {options}\n")
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn v2(max: &str, current: u64, inactive: u64) -> Vec<(&'static str, String)> {
        vec![
            ("memory.max", max.to_owned()),
            ("memory.current", current.to_string()),
            (
                "memory.stat",
                format!("anon 1000\nfile 5000\ninactive_file {inactive}\nactive_file 7"),
            ),
        ]
    }

    fn v1(limit: u64, usage: u64, hierarchical: u64, inactive: u64) -> Vec<(&'static str, String)> {
        vec![
            ("memory.limit_in_bytes", limit.to_string()),
            ("memory.usage_in_bytes", usage.to_string()),
            (
                "memory.stat",
                format!(
                    "cache 0\ninactive_file 4096\nhierarchical_memory_limit {hierarchical}\n\
                     total_inactive_file {inactive}"
                ),
            ),
        ]
    }

    const UNLIMITED_V1: u64 = 9223372036854771712;

    /// The limit is set on the parent only (a systemd slice or a
    /// container around this process's own cgroup): it binds, with the
    /// parent's usage, and the parent's inactive file cache counts as room.
    /// A looser limit on the cgroup itself loses to it.
    #[test]
    fn v2_a_limit_on_an_ancestor_binds() {
        let fixture = Dir::new("v2-ancestor");
        // The root cgroup has no memory.max.
        fixture.cgroup("cg v2", &[("cgroup.procs", String::new())]);
        let slice = fixture.cgroup("cg v2/slice", &v2("268435456", 14 * MIB, 2 * MIB));
        fixture.cgroup("cg v2/slice/job", &v2("max", 3 * MIB, 0));
        let mountinfo = fixture.mount("cg v2", "cgroup2", "rw");
        let found = limit_from("0::/slice/job\n", &mountinfo).expect("the slice's limit");
        assert_eq!(
            found,
            Limit {
                version: Version::V2,
                dir: slice.clone(),
                setting: "memory.max",
                limit: 256 * MIB,
                usage: 14 * MIB,
                reclaimable: 2 * MIB,
            }
        );
        assert_eq!(found.room(), 244 * MIB);
        assert_eq!(found.in_use(), 12 * MIB);

        fixture.cgroup("cg v2/slice/job", &v2("536870912", 3 * MIB, 0));
        let found = limit_from("0::/slice/job\n", &mountinfo).unwrap();
        assert_eq!((found.dir, found.limit), (slice, 256 * MIB));
    }

    #[test]
    fn v2_max_everywhere_is_no_limit() {
        let fixture = Dir::new("v2-max");
        fixture.cgroup("v2/slice", &v2("max", 14 * MIB, 0));
        fixture.cgroup("v2/slice/job", &v2("max", 3 * MIB, 0));
        let mountinfo = fixture.mount("v2", "cgroup2", "rw");
        assert_eq!(limit_from("0::/slice/job\n", &mountinfo), None);
    }

    /// The machine of this workspace: v1 memory controller, v2 mounted
    /// without it. The v1 limit is found through the `memory` line and the
    /// mount with the `memory` super option, not the cpu one.
    #[test]
    fn v1_a_limited_cgroup_is_found_through_its_memory_line() {
        let fixture = Dir::new("v1-limited");
        fixture.cgroup("unified/job", &[("cgroup.procs", String::new())]);
        fixture.cgroup("cpu/job", &v1(64 * MIB, 0, 64 * MIB, 0));
        fixture.cgroup("memory", &v1(UNLIMITED_V1, 900 * MIB, UNLIMITED_V1, 0));
        let job = fixture.cgroup("memory/job", &v1(256 * MIB, 20 * MIB, 256 * MIB, 4 * MIB));
        let mountinfo = [
            fixture.mount("cpu", "cgroup", "rw,cpu"),
            fixture.mount("memory", "cgroup", "rw,memory"),
            fixture.mount("unified", "cgroup2", "rw"),
        ]
        .concat();
        let cgroup = "5:cpu:/job\n4:memory:/job\n0::/job\n";
        let found = limit_from(cgroup, &mountinfo).expect("the v1 limit");
        assert_eq!(
            found,
            Limit {
                version: Version::V1,
                dir: job,
                setting: "memory.limit_in_bytes",
                limit: 256 * MIB,
                usage: 20 * MIB,
                reclaimable: 4 * MIB,
            }
        );
        assert_eq!(found.room(), 240 * MIB);
    }

    /// v1 shows "no limit" as a number near 2^63; and when only
    /// memory.stat knows of a limit (set above what the mount shows), that
    /// one is used.
    #[test]
    fn v1_unlimited_is_no_limit_and_a_hidden_ancestors_limit_is_seen() {
        let fixture = Dir::new("v1-unlimited");
        let job = fixture.cgroup("memory/job", &v1(UNLIMITED_V1, 20 * MIB, UNLIMITED_V1, 0));
        let mountinfo = fixture.mount("memory", "cgroup", "rw,memory");
        assert_eq!(limit_from("4:memory:/job\n", &mountinfo), None);

        fixture.cgroup("memory/job", &v1(UNLIMITED_V1, 20 * MIB, 128 * MIB, 0));
        let found = limit_from("4:memory:/job\n", &mountinfo).expect("memory.stat's limit");
        assert_eq!(
            (found.dir.clone(), found.setting, found.room()),
            (job, "hierarchical_memory_limit", 108 * MIB)
        );
    }

    /// A file that is missing is "nothing known", never an error: no usage
    /// means no room can be computed; no memory.stat means no reclaimable
    /// cache; no mount or no line means no cgroup.
    #[test]
    fn missing_files_mean_no_limit_known() {
        let fixture = Dir::new("missing");
        let job = fixture.cgroup("v2/job", &[("memory.max", String::from("268435456"))]);
        let mountinfo = fixture.mount("v2", "cgroup2", "rw");
        assert_eq!(
            limit_from("0::/job\n", &mountinfo),
            None,
            "no memory.current"
        );

        std::fs::write(job.join("memory.current"), "10485760\n").unwrap();
        let found = limit_from("0::/job\n", &mountinfo).expect("no memory.stat is fine");
        assert_eq!((found.reclaimable, found.room()), (0, 246 * MIB));

        std::fs::write(job.join("memory.max"), "lots\n").unwrap();
        assert_eq!(limit_from("0::/job\n", &mountinfo), None, "unparsable");
        assert_eq!(limit_from("", &mountinfo), None, "no /proc/self/cgroup");
        assert_eq!(limit_from("0::/job\n", ""), None, "no mountinfo");
        let elsewhere = fixture.mount("nowhere", "cgroup2", "rw");
        assert_eq!(limit_from("0::/job\n", &elsewhere), None, "no such mount");
    }

    /// In a container the mount's root is the container's cgroup: with a
    /// cgroup namespace the path is `/`; without one it names the host's
    /// cgroup (`/docker/…`), which does not exist under the mount; a
    /// process outside the namespace's root sees `/../…`. Each time the
    /// mount's root is read.
    #[test]
    fn in_a_container_the_mounts_root_is_the_cgroup() {
        let fixture = Dir::new("namespaced");
        let root = fixture.cgroup("v2", &v2("268435456", 14 * MIB, 0));
        let mountinfo = fixture.mount("v2", "cgroup2", "rw");
        for path in ["/", "/docker/0123abcd", "/../../user.slice"] {
            let places = places(&format!("0::{path}\n"), &mountinfo);
            assert_eq!(places.len(), 1, "{path}");
            assert_eq!(places[0].dir, root, "{path}");
            let found = limit_from(&format!("0::{path}\n"), &mountinfo).expect(path);
            assert_eq!(
                (found.dir, found.limit),
                (root.clone(), 256 * MIB),
                "{path}"
            );
        }
    }

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape("/a\\040b\\134c"), "/a b\\c");
        assert_eq!(unescape("/plain\\09"), "/plain\\09");
    }
}
