//! argon2id password hashes (PHC strings), computed in a bounded pool of reused memory.
//!
//! Each hash needs its working memory (19 MiB with the default parameters). Allocating it per
//! call let a burst of sign-ins grow the process by that much per concurrent sign-in, and the
//! allocator kept most of it (100 at once: RSS 1.7–1.9 GB). Here at most one hash per core
//! runs at a time, each in a buffer that is reused while sign-ins keep coming; callers queue.
//! A buffer nobody has used for [`IDLE_RELEASE`] goes back to the operating system
//! ([`release_idle`], called by the server's upkeep), so a quiet server does not keep
//! `cores × 19 MiB` it no longer needs.

use std::sync::{Condvar, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// How many hashes may run at once: one per core the process may use.
fn capacity() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// How long a working memory is kept after its last hash.
pub const IDLE_RELEASE: Duration = Duration::from_secs(10);

/// Address space reserved for each working memory, in blocks (33 MiB; only the blocks a hash
/// uses become resident). Why more than the 19 MiB used: glibc serves a request above its
/// mmap threshold with a mapping of its own and unmaps it on free, but freeing such a mapping
/// of at most 32 MiB raises the threshold to its size, after which same-sized buffers come
/// from (and stay in) the heap's arenas, so dropping an idle buffer would free nothing. Above
/// 32 MiB the threshold is left alone and a dropped buffer always goes back to the system.
const RESERVED_BLOCKS: usize = 33 * 1024;

/// Reusable working memories, one per hash that may run at once.
struct Workspaces {
    /// The free ones, each with when it was last given back (a slot never used holds an
    /// empty `Vec`, which owns no memory).
    free: Mutex<Vec<(Vec<Block>, Instant)>>,
    returned: Condvar,
}

impl Workspaces {
    fn new(slots: usize) -> Self {
        Self {
            free: Mutex::new((0..slots).map(|_| (Vec::new(), Instant::now())).collect()),
            returned: Condvar::new(),
        }
    }

    /// A poisoned lock only means another thread panicked while holding it; the list of
    /// buffers itself is always consistent (push/pop).
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Vec<Block>, Instant)>> {
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Run `f` with `blocks` blocks of working memory, waiting while every workspace is in use.
    fn with_memory<R>(&self, blocks: usize, f: impl FnOnce(&mut [Block]) -> R) -> R {
        let buf = {
            let mut free = self.lock();
            loop {
                // The most recently used first: its pages are still resident.
                if let Some((buf, _)) = free.pop() {
                    break buf;
                }
                free = self
                    .returned
                    .wait(free)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        let mut lease = Lease {
            pool: self,
            buf: Some(buf),
        };
        let buf = lease.buf.get_or_insert_with(Vec::new);
        if buf.len() < blocks {
            if buf.capacity() < blocks {
                *buf = Vec::with_capacity(blocks.max(RESERVED_BLOCKS));
            }
            buf.resize(blocks, Block::default());
        }
        f(&mut buf[..blocks])
    }

    /// Drop the working memories unused for at least `idle`; returns how many bytes went.
    fn release_idle(&self, idle: Duration) -> usize {
        let mut released = 0;
        for (buf, last) in self.lock().iter_mut() {
            if buf.capacity() > 0 && last.elapsed() >= idle {
                released += buf.capacity() * std::mem::size_of::<Block>();
                *buf = Vec::new();
            }
        }
        released
    }
}

/// A workspace taken from a pool; given back on drop (also when hashing panics).
struct Lease<'a> {
    pool: &'a Workspaces,
    buf: Option<Vec<Block>>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(buf) = self.buf.take() {
            // Pushed last, so taken first by the next hash while its pages are resident.
            self.pool.lock().push((buf, Instant::now()));
            self.pool.returned.notify_one();
        }
    }
}

/// The process's workspaces.
static WORKSPACES: LazyLock<Workspaces> = LazyLock::new(|| Workspaces::new(capacity()));

fn with_memory<R>(blocks: usize, f: impl FnOnce(&mut [Block]) -> R) -> R {
    WORKSPACES.with_memory(blocks, f)
}

/// Give back the working memories no hash has used for [`IDLE_RELEASE`]; returns the bytes
/// released (of address space; of it, the parameters' 19 MiB each were resident).
pub fn release_idle() -> usize {
    WORKSPACES.release_idle(IDLE_RELEASE)
}

/// Async callers wait here (without holding a thread) before taking a workspace, so that a
/// burst of sign-ins queues on the runtime instead of parking one blocking thread each.
static GATE: LazyLock<tokio::sync::Semaphore> =
    LazyLock::new(|| tokio::sync::Semaphore::new(capacity()));

/// Hash a password with a fresh salt.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    let params = Params::default();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_buf)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    with_memory(params.block_count(), |memory| {
        argon2.hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, memory)
    })?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the stored hash. A malformed stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    matches(password, stored).unwrap_or(false)
}

fn matches(password: &str, stored: &str) -> Result<bool, argon2::password_hash::Error> {
    let parsed = PasswordHash::new(stored)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Ok(false);
    };
    let algorithm = Algorithm::try_from(parsed.algorithm)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    // Takes the output length from the stored hash.
    let params = Params::try_from(&parsed)?;
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf)?;
    let mut out = vec![0u8; expected.len()];
    with_memory(params.block_count(), |memory| {
        argon2.hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, memory)
    })?;
    // `Output` compares in constant time.
    Ok(Output::new(&out)? == expected)
}

/// A hash to verify against when the username does not exist, so that a wrong username
/// takes as long as a wrong password and does not reveal which accounts exist.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash("griddispatch-dummy-password").unwrap_or_default());

/// Spend the time of one verification, always failing.
pub fn verify_dummy(password: &str) {
    let _ = verify(password, &DUMMY_HASH);
}

/// Check `password` against `stored` (or a dummy when the account does not exist) on a
/// blocking thread, once one of the per-core slots is free; `false` for an unknown account.
pub async fn verify_queued(
    password: String,
    stored: Option<String>,
) -> Result<bool, actix_web::error::BlockingError> {
    // The semaphore is never closed, so acquiring only fails if it were; then run anyway
    // (the workspace pool still bounds the memory).
    let _permit = GATE.acquire().await.ok();
    actix_web::web::block(move || match stored {
        Some(stored) => verify(&password, &stored),
        None => {
            verify_dummy(&password);
            false
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn a_hash_verifies_only_its_password() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse", &h));
        assert!(!verify("correct horsf", &h));
        assert!(!verify("correct horse", "not-a-hash"));
    }

    #[test]
    fn hashes_are_interchangeable_with_the_argon2_crates_own() {
        let ours = hash("correct horse").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert!(verify("correct horse", &theirs));
        assert!(!verify("wrong horse", &theirs));
    }

    #[test]
    fn no_more_hashes_run_at_once_than_there_are_workspaces() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static RUNNING: AtomicUsize = AtomicUsize::new(0);
        static MOST: AtomicUsize = AtomicUsize::new(0);
        let threads: Vec<_> = (0..capacity() * 3)
            .map(|_| {
                std::thread::spawn(|| {
                    with_memory(8, |memory| {
                        let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
                        MOST.fetch_max(now, Ordering::SeqCst);
                        // Real work in the buffer while others try to get in.
                        let salt = b"somesaltsomesalt";
                        let params = Params::new(8, 1, 1, Some(32)).unwrap();
                        let mut out = [0u8; 32];
                        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                            .hash_password_into_with_memory(b"pw", salt, &mut out, memory)
                            .unwrap();
                        RUNNING.fetch_sub(1, Ordering::SeqCst);
                    });
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(MOST.load(Ordering::SeqCst) <= capacity());
        assert!(MOST.load(Ordering::SeqCst) >= 1);
    }

    #[test]
    fn idle_workspaces_are_released_and_made_again_when_needed() {
        let pool = Workspaces::new(2);
        let run = |pool: &Workspaces| {
            pool.with_memory(Params::DEFAULT_M_COST as usize, |memory| {
                let mut out = [0u8; 32];
                Argon2::default()
                    .hash_password_into_with_memory(b"pw", b"somesaltsomesalt", &mut out, memory)
                    .unwrap();
                out
            })
        };
        let first = run(&pool);
        // Just used: kept.
        assert_eq!(pool.release_idle(Duration::from_secs(3600)), 0);
        // Idle long enough: the one buffer made goes, with its whole reservation.
        let bytes = RESERVED_BLOCKS * std::mem::size_of::<Block>();
        assert_eq!(pool.release_idle(Duration::ZERO), bytes);
        assert_eq!(
            pool.release_idle(Duration::ZERO),
            0,
            "nothing left to release"
        );
        // The next hash makes a new buffer and computes the same.
        assert_eq!(run(&pool), first);
        assert_eq!(pool.release_idle(Duration::ZERO), bytes);
    }

    #[test]
    fn hashes_with_other_parameters_still_verify() {
        let params = Params::new(8 * 1024, 1, 1, Some(24)).unwrap();
        let salt = SaltString::generate(&mut OsRng);
        let small = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"pw-pw-pw", &salt)
            .unwrap()
            .to_string();
        assert!(verify("pw-pw-pw", &small));
        assert!(!verify("pw-pw-px", &small));
    }
}
