//! The account that lab logins use.

use std::ffi::{CStr, CString, c_char, c_int};
use std::fs::{self, OpenOptions};
use std::io;
use std::process::{Command, Stdio};
use std::{mem, ptr};

use crate::LabError;
use crate::claim::RUN_DIR;

/// The dedicated login user of a root lab. Root's shell start-up is slow on
/// these machines and would hide tsync's own costs behind it.
const LAB_USER: &str = "tsync-lab";

/// A user that lab hosts accept logins from.
pub(crate) struct LoginUser {
    pub(crate) name: String,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

impl LoginUser {
    /// The dedicated unprivileged user, created or unlocked when needed.
    /// Needs root.
    pub(crate) fn dedicated() -> Result<LoginUser, LabError> {
        // Concurrent useradd runs here all "succeed", each with another uid,
        // so labs in every process set the user up one at a time under a
        // lock of their own. The lock file stays: removing it would let two
        // waiters lock different files.
        fs::create_dir_all(RUN_DIR).map_err(LabError::io(format!("creating {RUN_DIR}")))?;
        let lock_path = format!("{RUN_DIR}/user.lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(LabError::io(format!("opening {lock_path}")))?;
        lock.lock()
            .map_err(LabError::io(format!("locking {lock_path}")))?;
        let (program, args): (&str, &[&str]) = match find_lab_user()? {
            Some((user, false)) => return Ok(user),
            // With UsePAM no, sshd refuses accounts whose password is locked
            // ("!"), which is how useradd leaves them; "*" matches no
            // password either but does not lock the account.
            Some((_, true)) => ("usermod", &["--password", "*", LAB_USER]),
            None => (
                "useradd",
                &[
                    "--create-home",
                    "--shell",
                    "/bin/sh",
                    "--password",
                    "*",
                    LAB_USER,
                ],
            ),
        };
        let output = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(LabError::io(format!("running {program}")))?;
        if !output.status.success() {
            return Err(LabError::Command {
                what: format!("{program} {LAB_USER}"),
                status: output.status,
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        match find_lab_user()? {
            Some((user, false)) => Ok(user),
            _ => Err(LabError::Io {
                what: format!("preparing the user {LAB_USER} with {program}"),
                source: io::Error::other("it is still missing or locked"),
            }),
        }
    }

    /// The user this process runs as.
    pub(crate) fn current() -> Result<LoginUser, LabError> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let uid = unsafe { libc::geteuid() };
        let found = lookup(|entry, buf, len, found| {
            // SAFETY: the pointers come from `lookup` and are valid for the call.
            unsafe { libc::getpwuid_r(uid, entry, buf, len, found) }
        })
        .map_err(LabError::io(format!("looking up the user of uid {uid}")))?;
        found.ok_or_else(|| LabError::Io {
            what: format!("looking up the user of uid {uid}"),
            source: io::Error::from(io::ErrorKind::NotFound),
        })
    }
}

/// The dedicated user if it exists, with whether its password is locked.
fn find_lab_user() -> Result<Option<(LoginUser, bool)>, LabError> {
    let Some(user) =
        by_name(LAB_USER).map_err(LabError::io(format!("looking up the user {LAB_USER}")))?
    else {
        return Ok(None);
    };
    let shadow = match fs::read_to_string("/etc/shadow") {
        Ok(shadow) => shadow,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Some((user, false))),
        Err(err) => {
            return Err(LabError::Io {
                what: "reading /etc/shadow".to_string(),
                source: err,
            });
        }
    };
    let locked = shadow.lines().any(|line| {
        let mut fields = line.split(':');
        fields.next() == Some(LAB_USER) && fields.next().is_some_and(|hash| hash.starts_with('!'))
    });
    Ok(Some((user, locked)))
}

fn by_name(name: &str) -> io::Result<Option<LoginUser>> {
    let name = CString::new(name)?;
    lookup(|entry, buf, len, found| {
        // SAFETY: `name` is NUL-terminated and outlives the call; the other
        // pointers come from `lookup` and are valid for the call.
        unsafe { libc::getpwnam_r(name.as_ptr(), entry, buf, len, found) }
    })
}

/// Runs a reentrant getpw*_r call, growing its buffer until the entry fits.
fn lookup(
    call: impl Fn(*mut libc::passwd, *mut c_char, usize, *mut *mut libc::passwd) -> c_int,
) -> io::Result<Option<LoginUser>> {
    let mut buf: Vec<c_char> = vec![0; 1024];
    loop {
        // SAFETY: passwd holds only pointers and integers, for which all
        // zeroes is a valid value; the call overwrites it.
        let mut entry: libc::passwd = unsafe { mem::zeroed() };
        let mut found = ptr::null_mut();
        match call(&mut entry, buf.as_mut_ptr(), buf.len(), &mut found) {
            0 if found.is_null() => return Ok(None),
            0 => {
                // SAFETY: on success pw_name points at a NUL-terminated
                // string inside `buf`, which is still alive.
                let name = unsafe { CStr::from_ptr(entry.pw_name) };
                return Ok(Some(LoginUser {
                    name: name.to_string_lossy().into_owned(),
                    uid: entry.pw_uid,
                    gid: entry.pw_gid,
                }));
            }
            libc::ERANGE => buf.resize(buf.len() * 2, 0),
            errno => return Err(io::Error::from_raw_os_error(errno)),
        }
    }
}
