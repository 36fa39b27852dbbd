//! Owners by name, as `ls -l` and `ipcs` print them.

use nix::unistd::{Uid, User};

/// `uid 1000 (alice)`, or just `uid 1000` if it has no name.
pub fn user_name(uid: libc::uid_t) -> String {
    match User::from_uid(Uid::from_raw(uid)) {
        Ok(Some(user)) => format!("uid {uid} ({})", user.name),
        _ => format!("uid {uid}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn root_has_a_name() {
        assert_eq!(super::user_name(0), "uid 0 (root)");
    }
}
