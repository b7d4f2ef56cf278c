//! Choosing where each host's `sshd` listens.
//!
//! As root every host gets an address of its own, `127.A.B.n` on port 22, in
//! a block picked at random per lab. Many labs start at once in parallel
//! tests, so random choice alone is not enough: a lab claims each `B` of its
//! block through `/run/tsync-lab/127.A.B.lock` for as long as it lives, and
//! then binds every address once to catch anything else listening there.

use std::fs;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::LabError;
use crate::claim::{Claim, RUN_DIR};

/// The most hosts one lab supports.
pub(crate) const MAX_HOSTS: usize = 1000;

/// Hosts per `B` value; the last octet runs from 1 to this.
const HOSTS_PER_BLOCK: usize = 250;

/// How many random blocks to try before giving up.
const TRIES: u32 = 20;

/// The endpoints of a lab's hosts, and what keeps them its own.
pub(crate) struct Addresses {
    pub(crate) endpoints: Vec<SocketAddrV4>,
    /// Claims on the address block, released when dropped.
    pub(crate) claims: Vec<Claim>,
}

impl Addresses {
    /// One loopback address per host on port 22, in a free random block.
    pub(crate) fn loopback_block(hosts: usize) -> Result<Addresses, LabError> {
        fs::create_dir_all(RUN_DIR).map_err(LabError::io(format!("creating {RUN_DIR}")))?;
        let blocks = hosts.div_ceil(HOSTS_PER_BLOCK) as u64;
        let mut state = seed();
        let mut last = String::new();
        for _ in 0..TRIES {
            let r = splitmix64(&mut state);
            let a = 2 + (r % 253) as u8;
            // The block's last B must stay within 0..=255.
            let b = ((r >> 32) % (257 - blocks)) as u8;
            match claim_block(a, b, hosts)? {
                Ok(addresses) => return Ok(addresses),
                Err(taken) => last = taken,
            }
        }
        Err(LabError::NoFreeAddresses { tries: TRIES, last })
    }

    /// 127.0.0.1 with a distinct free high port per host, for labs without root.
    pub(crate) fn free_ports(hosts: usize) -> Result<Addresses, LabError> {
        // Every listener stays bound until all are chosen so the kernel hands
        // out distinct ports; they are released for the sshds to bind.
        let listeners = (0..hosts)
            .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(LabError::io("finding a free port on 127.0.0.1"))?;
        let endpoints = listeners
            .iter()
            .map(|listener| {
                let port = listener.local_addr()?.port();
                Ok(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
            })
            .collect::<Result<Vec<_>, std::io::Error>>()
            .map_err(LabError::io("finding a free port on 127.0.0.1"))?;
        Ok(Addresses {
            endpoints,
            claims: Vec::new(),
        })
    }
}

/// Claims the block starting at `127.a.b`, or says why it is taken.
fn claim_block(a: u8, b: u8, hosts: usize) -> Result<Result<Addresses, String>, LabError> {
    let endpoints: Vec<SocketAddrV4> = (0..hosts)
        .map(|i| {
            let third = b + (i / HOSTS_PER_BLOCK) as u8;
            let fourth = (i % HOSTS_PER_BLOCK + 1) as u8;
            SocketAddrV4::new(Ipv4Addr::new(127, a, third, fourth), 22)
        })
        .collect();
    let mut claims = Vec::new();
    let last_b = endpoints
        .last()
        .map_or(b, |endpoint| endpoint.ip().octets()[2]);
    for third in b..=last_b {
        let path = PathBuf::from(format!("{RUN_DIR}/127.{a}.{third}.lock"));
        match Claim::try_take(path)? {
            Some(claim) => claims.push(claim),
            None => {
                return Ok(Err(format!(
                    "127.{a}.{third}.0/24 is claimed by another lab"
                )));
            }
        }
    }
    for endpoint in &endpoints {
        if let Err(err) = TcpListener::bind(endpoint) {
            return Ok(Err(format!("cannot bind {endpoint}: {err}")));
        }
    }
    Ok(Ok(Addresses { endpoints, claims }))
}

/// A seed that differs between processes, between runs and between labs of
/// one process.
fn seed() -> u64 {
    static LABS: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64);
    let lab = LABS.fetch_add(1, Ordering::Relaxed);
    nanos ^ (u64::from(std::process::id()) << 32) ^ lab.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// SplitMix64: small, fast and plenty random for picking address blocks.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
