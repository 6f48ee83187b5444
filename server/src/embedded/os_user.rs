//! The unprivileged account PostgreSQL runs as when we are root (it refuses to run as root).

use std::path::Path;

/// A system account looked up by name in `/etc/passwd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

impl OsUser {
    /// Looks `name` up in the system's account database.
    pub fn lookup(name: &str) -> std::io::Result<Option<Self>> {
        let passwd = std::fs::read_to_string("/etc/passwd")?;
        Ok(passwd
            .lines()
            .find_map(|line| parse_passwd_line(line, name)))
    }

    /// Whether this process runs as root and must hand PostgreSQL to another account.
    pub fn running_as_root() -> bool {
        // SAFETY: geteuid has no preconditions and cannot fail.
        #[allow(unsafe_code)]
        unsafe {
            libc::geteuid() == 0
        }
    }

    /// Gives `path` to this account.
    pub fn take_ownership(&self, path: &Path) -> std::io::Result<()> {
        std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid))
    }
}

fn parse_passwd_line(line: &str, name: &str) -> Option<OsUser> {
    let mut fields = line.split(':');
    if fields.next()? != name {
        return None;
    }
    let _password = fields.next()?;
    let uid = fields.next()?.parse().ok()?;
    let gid = fields.next()?.parse().ok()?;
    Some(OsUser {
        name: name.to_owned(),
        uid,
        gid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_passwd_entry() {
        let line = "postgres:x:101:104:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash";
        assert_eq!(
            parse_passwd_line(line, "postgres"),
            Some(OsUser {
                name: "postgres".into(),
                uid: 101,
                gid: 104
            })
        );
        assert_eq!(parse_passwd_line(line, "post"), None);
        assert_eq!(parse_passwd_line("postgres:x:abc:1::/:", "postgres"), None);
    }
}
