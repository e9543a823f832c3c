//! The file I/O seam of the file log.
//!
//! Every byte the file log reads or writes goes through [`LogIo`]. Production uses [`RealIo`]
//! (`std::fs`, `fdatasync`, an `fs2` lock). Tests use [`SimIo`], an in-memory disk that counts
//! every write and sync, can cut power at any of them, and then produces the image a real disk
//! could hold after that power cut (see "What is assumed of the disk" in `docs/log-format.md`).

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

/// A file opened for positional reads.
pub trait ReadFile: Send + Sync {
    /// Reads at `offset` into `buf`, returning how many bytes were read (0 at end of file).
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;

    /// Fills `buf` from `offset`, or fails with `UnexpectedEof`.
    fn read_exact_at(&self, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
        while !buf.is_empty() {
            let n = self.read_at(buf, offset)?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file ends early"));
            }
            buf = &mut buf[n..];
            offset += n as u64;
        }
        Ok(())
    }
}

/// A file opened for writing: appends, or positioned writes (the log's segments, whose tail
/// is pre-written with zeros that batches then overwrite).
pub trait AppendFile: Send {
    /// Appends all of `buf` at the end of the file.
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()>;
    /// Writes all of `buf` at `offset` (`pwrite`): over bytes already there, or extending the
    /// file when it reaches past the end. `offset` must not lie past the end (no holes).
    /// Until the next sync, a power cut may keep a prefix of it, as of an append.
    fn write_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()>;
    /// Makes every byte written so far durable (`fdatasync`).
    fn sync_data(&mut self) -> io::Result<()>;
    /// A second handle on the same file that only syncs it, for a thread of its own: the log's
    /// writer keeps writing through this handle while the other one runs `fdatasync`.
    fn sync_handle(&self) -> io::Result<Box<dyn SyncFile>>;
}

/// A handle that makes a file's written bytes durable ([`AppendFile::sync_handle`]).
pub trait SyncFile: Send {
    /// Makes every byte written to the file before the call durable (`fdatasync`); bytes
    /// written during the call may or may not be covered.
    fn sync_data(&self) -> io::Result<()>;
}

/// The file operations the log needs, and nothing else.
pub trait LogIo: Send + Sync + 'static {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// Names of the files in `dir`.
    fn list_dir(&self, dir: &Path) -> io::Result<Vec<String>>;
    fn file_len(&self, path: &Path) -> io::Result<u64>;
    fn open_read(&self, path: &Path) -> io::Result<Arc<dyn ReadFile>>;
    /// Opens `path` for appending; creates it (failing if it exists) when `create_new`.
    fn open_append(&self, path: &Path, create_new: bool) -> io::Result<Box<dyn AppendFile>>;
    /// Shortens `path` to `len` bytes and makes that durable.
    fn truncate(&self, path: &Path, len: u64) -> io::Result<()>;
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Makes the directory's entries (created, renamed, removed files) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Takes an exclusive lock on `path` (creating it), held until the guard is dropped.
    /// Fails with `ErrorKind::WouldBlock` when another holder has it.
    fn lock_exclusive(&self, path: &Path) -> io::Result<Box<dyn Any + Send>>;

    /// Makes `path` readable and writable by its owner only (mode 0600): for files holding
    /// secrets (the vault). A no-op where the seam has no permissions (the simulated disk).
    fn make_private(&self, _path: &Path) -> io::Result<()> {
        Ok(())
    }

    /// `path` mapped read-only into memory, where this seam can map files (`Ok(None)`: read it
    /// instead). Only for files that are replaced by rename, never changed in place (the
    /// checkpoint): the mapping keeps the file it was made of.
    fn map_whole(&self, _path: &Path) -> io::Result<Option<Mapped>> {
        Ok(None)
    }

    /// The whole content of `path`.
    fn read_whole(&self, path: &Path) -> io::Result<Vec<u8>> {
        let len = self.file_len(path)?;
        let mut buf = vec![0u8; len as usize];
        self.open_read(path)?.read_exact_at(&mut buf, 0)?;
        Ok(buf)
    }
}

/// A read-only memory mapping of a whole file ([`LogIo::map_whole`]).
pub struct Mapped(memmap2::Mmap);

impl std::ops::Deref for Mapped {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Mapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mapped({} bytes)", self.0.len())
    }
}

/// An append handle's end against the file's length: equal while the handle is the file's one
/// writer; after a failed write the file may hold part of it beyond the end (never less).
fn check_one_writer(end: u64, file_len: u64, torn: bool) {
    assert!(
        file_len == end || (torn && file_len > end),
        "a file appended to has one writer: its end is the handle's ({end}; the file has {file_len} bytes)"
    );
}

/// The real file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealIo;

struct RealRead(std::fs::File);

impl ReadFile for RealRead {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(&self.0, buf, offset)
    }
}

/// A file opened for writing. Not `O_APPEND` (Linux's `pwrite` ignores the offset on such a
/// file): each file of the log has one writer, this handle, so it keeps the file's end itself
/// (looked up once, at open) instead of asking the file system before every append.
struct RealAppend {
    file: std::fs::File,
    /// The file's length: at open, then after each write through this handle. A write that
    /// failed may have left part of its bytes beyond it; the next append overwrites them (a
    /// file of records numbered by their place, like the vault, stays numbered right).
    end: u64,
    /// A write through this handle failed (the file may be longer than `end`).
    torn: bool,
}

impl AppendFile for RealAppend {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        #[cfg(debug_assertions)]
        check_one_writer(self.end, self.file.metadata()?.len(), self.torn);
        self.write_at(buf, self.end)
    }
    fn write_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        assert!(
            offset <= self.end,
            "a write starts at or before the file's end (no holes)"
        );
        let written = std::os::unix::fs::FileExt::write_all_at(&self.file, buf, offset);
        self.torn |= written.is_err();
        written?;
        self.end = self.end.max(offset + buf.len() as u64);
        Ok(())
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }
    fn sync_handle(&self) -> io::Result<Box<dyn SyncFile>> {
        Ok(Box::new(RealSync(self.file.try_clone()?)))
    }
}

struct RealSync(std::fs::File);

impl SyncFile for RealSync {
    fn sync_data(&self) -> io::Result<()> {
        self.0.sync_data()
    }
}

impl LogIo for RealIo {
    fn map_whole(&self, path: &Path) -> io::Result<Option<Mapped>> {
        let file = std::fs::File::open(path)?;
        if file.metadata()?.len() == 0 {
            return Ok(None);
        }
        // SAFETY: the mapping is read-only and the only file mapped is the checkpoint, which
        // the log never changes in place: a new one is written beside it and renamed over it,
        // leaving the mapped file intact. (Changing it in place behind the log's back, which
        // nothing in plaint does, could make reads of the mapping fault.)
        let map = unsafe { memmap2::Mmap::map(&file)? };
        Ok(Some(Mapped(map)))
    }

    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)
    }
    fn list_dir(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        Ok(names)
    }
    fn file_len(&self, path: &Path) -> io::Result<u64> {
        Ok(std::fs::metadata(path)?.len())
    }
    fn open_read(&self, path: &Path) -> io::Result<Arc<dyn ReadFile>> {
        Ok(Arc::new(RealRead(std::fs::File::open(path)?)))
    }
    fn open_append(&self, path: &Path, create_new: bool) -> io::Result<Box<dyn AppendFile>> {
        let mut o = std::fs::OpenOptions::new();
        o.write(true);
        if create_new {
            o.create_new(true);
        }
        let file = o.open(path)?;
        let end = file.metadata()?.len();
        Ok(Box::new(RealAppend { file, end, torn: false }))
    }
    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        let f = std::fs::OpenOptions::new().write(true).open(path)?;
        f.set_len(len)?;
        f.sync_all()
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        std::fs::File::open(dir)?.sync_all()
    }
    fn lock_exclusive(&self, path: &Path) -> io::Result<Box<dyn Any + Send>> {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        fs2::FileExt::try_lock_exclusive(&f)?;
        Ok(Box::new(f))
    }
    fn make_private(&self, path: &Path) -> io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
    }
}

/// One simulated file: its current bytes, and the writes since its last sync (in order, each
/// with what it replaced, so that the synced content can be rebuilt).
#[derive(Debug, Clone, Default)]
struct SimFile {
    data: Vec<u8>,
    unsynced: Vec<SimWrite>,
}

/// A write not yet synced: where, what, and what it changed.
#[derive(Debug, Clone)]
struct SimWrite {
    offset: usize,
    bytes: Vec<u8>,
    /// The file's length before the write.
    len_before: usize,
    /// The bytes the write replaced (those of `offset ..` that lay before `len_before`).
    replaced: Vec<u8>,
}

impl SimFile {
    /// A file whose bytes are all durable.
    fn synced(data: Vec<u8>) -> SimFile {
        SimFile {
            data,
            unsynced: Vec::new(),
        }
    }

    /// Writes `bytes` at `offset` (at most the current length: no holes), unsynced.
    fn write(&mut self, offset: usize, bytes: &[u8]) -> io::Result<()> {
        if offset > self.data.len() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "write past the end"));
        }
        let len_before = self.data.len();
        let replaced = self.data[offset..(offset + bytes.len()).min(len_before)].to_vec();
        let end = offset + bytes.len();
        if end > len_before {
            self.data.resize(end, 0);
        }
        self.data[offset..end].copy_from_slice(bytes);
        self.unsynced.push(SimWrite {
            offset,
            bytes: bytes.to_vec(),
            len_before,
            replaced,
        });
        Ok(())
    }

    /// The content as of the last sync: the unsynced writes undone, newest first.
    fn synced_content(&self) -> Vec<u8> {
        let mut data = self.data.clone();
        for w in self.unsynced.iter().rev() {
            data[w.offset..w.offset + w.replaced.len()].copy_from_slice(&w.replaced);
            data.truncate(w.len_before);
        }
        data
    }

    /// The content after a power cut that kept the first `kept` unsynced bytes, in the order
    /// they were written (whole writes, then a prefix of the next one).
    fn content_keeping(&self, kept: usize) -> Vec<u8> {
        let mut data = self.synced_content();
        let mut left = kept;
        for w in &self.unsynced {
            let n = w.bytes.len().min(left);
            if n == 0 {
                break;
            }
            let end = w.offset + n;
            if end > data.len() {
                data.resize(end, 0);
            }
            data[w.offset..end].copy_from_slice(&w.bytes[..n]);
            left -= n;
        }
        data
    }
}

#[derive(Debug, Default)]
struct SimState {
    files: BTreeMap<PathBuf, SimFile>,
    dirs: BTreeSet<PathBuf>,
    locks: BTreeSet<PathBuf>,
    /// Write and sync operations performed so far.
    ops: u64,
    /// Power is cut at this operation (0-based), if set.
    cut_at_op: Option<u64>,
    /// Power was cut: every operation fails from now on.
    dead: bool,
    /// Drives how much of a cut write lands.
    rng_state: u64,
    /// Syncs of files allowed to start before the test releases more (`None`: no gate).
    sync_permits: Option<u64>,
    /// Syncs blocked at the gate right now.
    syncs_waiting: u64,
    /// The next sync of these files fails (an I/O error, not a power cut: the bytes stay
    /// written but unsynced, and later operations go on).
    fail_next_sync: BTreeSet<PathBuf>,
    /// The next write of these files lands half its bytes and fails (an I/O error, not a power
    /// cut: later operations go on).
    fail_next_write: BTreeSet<PathBuf>,
}

impl SimState {
    fn next_rand(&mut self) -> u64 {
        // SplitMix64: tiny, seeded, reproducible.
        self.rng_state = self.rng_state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn check_alive(&self) -> io::Result<()> {
        if self.dead {
            return Err(io::Error::other("simulated power cut"));
        }
        Ok(())
    }

    /// Counts a write or sync; returns `true` when power is cut at this one.
    fn count_op(&mut self) -> bool {
        let op = self.ops;
        self.ops += 1;
        if self.cut_at_op == Some(op) {
            self.dead = true;
            return true;
        }
        false
    }
}

/// An in-memory disk for crash tests. Clones share the same disk.
#[derive(Debug, Clone, Default)]
pub struct SimIo {
    state: Arc<Mutex<SimState>>,
    /// Signalled whenever the gate, the waiting syncs or the operation count change.
    changed: Arc<Condvar>,
}

impl SimIo {
    /// An empty disk; `seed` drives how much of an interrupted write lands.
    pub fn new(seed: u64) -> Self {
        let io = SimIo::default();
        io.state.lock().unwrap().rng_state = seed;
        io
    }

    /// Cut power at the `op`-th write or sync from now (0 = the next one). The cut write lands
    /// partly; that operation and every later one fail.
    pub fn cut_power_at(&self, op: u64) {
        let mut s = self.state.lock().unwrap();
        s.cut_at_op = Some(s.ops + op);
    }

    /// Writes and syncs performed so far.
    pub fn ops(&self) -> u64 {
        self.state.lock().unwrap().ops
    }

    /// Whether power was cut.
    pub fn is_dead(&self) -> bool {
        self.state.lock().unwrap().dead
    }

    /// The disk as a reboot would find it: each file keeps its synced content plus a random
    /// prefix of the bytes written after its last sync (in write order: whole writes, then
    /// part of the next; a positioned write over old bytes lands the same way), sometimes
    /// followed by zeros up to at most the length the writes reached.
    /// Locks are gone. The image is a new, independent disk.
    pub fn crash_image(&self, seed: u64) -> SimIo {
        let s = self.state.lock().unwrap();
        let image = SimIo::new(seed);
        {
            let mut t = image.state.lock().unwrap();
            t.dirs = s.dirs.clone();
            for (path, f) in &s.files {
                let unsynced: usize = f.unsynced.iter().map(|w| w.bytes.len()).sum();
                let kept = if unsynced == 0 {
                    0
                } else {
                    (t.next_rand() % (unsynced as u64 + 1)) as usize
                };
                let mut data = f.content_keeping(kept);
                // The file's size may have reached further than its landed bytes (zeros):
                // never beyond what was written.
                let room = f.data.len().saturating_sub(data.len());
                let zeros = if kept < unsynced && t.next_rand() % 3 == 0 {
                    (t.next_rand() % (room as u64 + 1)) as usize
                } else {
                    0
                };
                data.resize(data.len() + zeros, 0);
                t.files.insert(path.clone(), SimFile::synced(data));
            }
        }
        image
    }

    /// The current bytes of `path` (synced or not), for tests that damage files.
    pub fn file_bytes(&self, path: &Path) -> Option<Vec<u8>> {
        self.state.lock().unwrap().files.get(path).map(|f| f.data.clone())
    }

    /// Replaces the bytes of `path` (durably), for tests that damage files.
    pub fn set_file_bytes(&self, path: &Path, data: Vec<u8>) {
        self.state
            .lock()
            .unwrap()
            .files
            .insert(path.to_path_buf(), SimFile::synced(data));
    }

    /// Removes `path`, for tests that lose files.
    pub fn delete_file(&self, path: &Path) {
        self.state.lock().unwrap().files.remove(path);
    }

    /// Holds every file sync at a gate until [`SimIo::release_syncs`] lets it pass, so that a
    /// test can have later writes happen while a sync is under way.
    pub fn hold_syncs(&self) {
        self.state.lock().unwrap().sync_permits = Some(0);
        self.changed.notify_all();
    }

    /// Lets `n` more held syncs pass the gate.
    pub fn release_syncs(&self, n: u64) {
        let mut s = self.state.lock().unwrap();
        if let Some(p) = s.sync_permits.as_mut() {
            *p += n;
        }
        drop(s);
        self.changed.notify_all();
    }

    /// Removes the gate: held and later syncs run at once.
    pub fn open_sync_gate(&self) {
        self.state.lock().unwrap().sync_permits = None;
        self.changed.notify_all();
    }

    /// Blocks until `n` syncs wait at the gate (or power was cut: then none may come).
    pub fn wait_syncs_waiting(&self, n: u64) {
        let s = self.state.lock().unwrap();
        drop(self.changed.wait_while(s, |s| s.syncs_waiting < n && !s.dead).unwrap());
    }

    /// Blocks until `n` writes and syncs have been performed in all (see [`SimIo::ops`]), or
    /// power was cut.
    pub fn wait_ops(&self, n: u64) {
        let s = self.state.lock().unwrap();
        drop(self.changed.wait_while(s, |s| s.ops < n && !s.dead).unwrap());
    }

    /// Syncs waiting at the gate right now.
    pub fn syncs_waiting(&self) -> u64 {
        self.state.lock().unwrap().syncs_waiting
    }

    /// The next sync of `path` fails with an I/O error (as `fdatasync` does on a writeback
    /// error): its bytes stay unsynced, the disk goes on working.
    pub fn fail_next_sync(&self, path: &Path) {
        self.state.lock().unwrap().fail_next_sync.insert(path.to_path_buf());
    }

    /// The next write to `path` lands the first half of its bytes (unsynced) and fails with an
    /// I/O error (as a write that ran out of space part-way does); the disk goes on working.
    pub fn fail_next_write(&self, path: &Path) {
        self.state.lock().unwrap().fail_next_write.insert(path.to_path_buf());
    }
}

struct SimRead {
    state: Arc<Mutex<SimState>>,
    path: PathBuf,
}

impl ReadFile for SimRead {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let s = self.state.lock().unwrap();
        s.check_alive()?;
        let f = s
            .files
            .get(&self.path)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        let start = (offset as usize).min(f.data.len());
        let n = buf.len().min(f.data.len() - start);
        buf[..n].copy_from_slice(&f.data[start..start + n]);
        Ok(n)
    }
}

#[derive(Clone)]
struct SimAppend {
    state: Arc<Mutex<SimState>>,
    changed: Arc<Condvar>,
    path: PathBuf,
    /// The file's length as this handle knows it (at open, then after each write through it),
    /// where it appends: as `RealIo`'s handle does, checked against the file at each append.
    end: u64,
    /// A write through this handle failed (see `RealAppend::torn`).
    torn: bool,
}

impl SimAppend {
    /// A file sync: waits at the gate (if a test set one), then counts as one operation.
    fn sync(&self) -> io::Result<()> {
        let mut s = self.state.lock().unwrap();
        if s.sync_permits == Some(0) {
            s.syncs_waiting += 1;
            self.changed.notify_all();
            s = self.changed.wait_while(s, |s| s.sync_permits == Some(0)).unwrap();
            s.syncs_waiting -= 1;
        }
        if let Some(p) = s.sync_permits.as_mut() {
            *p -= 1;
        }
        s.check_alive()?;
        let cut = s.count_op();
        self.changed.notify_all();
        if cut {
            return Err(io::Error::other("simulated power cut during sync"));
        }
        if s.fail_next_sync.remove(&self.path) {
            return Err(io::Error::other("simulated fdatasync failure (writeback error)"));
        }
        let f = s
            .files
            .get_mut(&self.path)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        f.unsynced.clear();
        Ok(())
    }
}

impl SyncFile for SimAppend {
    fn sync_data(&self) -> io::Result<()> {
        self.sync()
    }
}

impl SimAppend {
    /// A write at `offset`; counts as one operation. When power is cut at it, a random prefix
    /// of it lands (and stays unsynced).
    fn write(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        let mut s = self.state.lock().unwrap();
        s.check_alive()?;
        let cut = s.count_op();
        self.changed.notify_all();
        let failed = !cut && s.fail_next_write.remove(&self.path);
        let landed = if cut {
            (s.next_rand() % (buf.len() as u64 + 1)) as usize
        } else if failed {
            buf.len() / 2
        } else {
            buf.len()
        };
        let f = s
            .files
            .get_mut(&self.path)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        f.write(offset as usize, &buf[..landed])?;
        if cut {
            return Err(io::Error::other("simulated power cut during write"));
        }
        if failed {
            return Err(io::Error::other("simulated write failure (half of it landed)"));
        }
        Ok(())
    }
}

impl AppendFile for SimAppend {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let len = {
            let s = self.state.lock().unwrap();
            s.files.get(&self.path).map(|f| f.data.len() as u64)
        };
        if let Some(len) = len {
            check_one_writer(self.end, len, self.torn);
        }
        self.write_at(buf, self.end)
    }
    fn write_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        assert!(
            offset <= self.end,
            "a write starts at or before the file's end (no holes)"
        );
        let written = self.write(buf, offset);
        self.torn |= written.is_err();
        written?;
        self.end = self.end.max(offset + buf.len() as u64);
        Ok(())
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.sync()
    }
    fn sync_handle(&self) -> io::Result<Box<dyn SyncFile>> {
        Ok(Box::new(self.clone()))
    }
}

struct SimLock {
    state: Arc<Mutex<SimState>>,
    path: PathBuf,
}

impl Drop for SimLock {
    fn drop(&mut self) {
        if let Ok(mut s) = self.state.lock() {
            s.locks.remove(&self.path);
        }
    }
}

impl LogIo for SimIo {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.state.lock().unwrap();
        s.check_alive()?;
        s.dirs.insert(dir.to_path_buf());
        Ok(())
    }
    fn list_dir(&self, dir: &Path) -> io::Result<Vec<String>> {
        let s = self.state.lock().unwrap();
        s.check_alive()?;
        if !s.dirs.contains(dir) {
            return Err(io::Error::from(io::ErrorKind::NotFound));
        }
        Ok(s.files
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect())
    }
    fn file_len(&self, path: &Path) -> io::Result<u64> {
        let s = self.state.lock().unwrap();
        s.check_alive()?;
        s.files
            .get(path)
            .map(|f| f.data.len() as u64)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }
    fn open_read(&self, path: &Path) -> io::Result<Arc<dyn ReadFile>> {
        let s = self.state.lock().unwrap();
        s.check_alive()?;
        if !s.files.contains_key(path) {
            return Err(io::Error::from(io::ErrorKind::NotFound));
        }
        Ok(Arc::new(SimRead {
            state: self.state.clone(),
            path: path.to_path_buf(),
        }))
    }
    fn open_append(&self, path: &Path, create_new: bool) -> io::Result<Box<dyn AppendFile>> {
        let mut s = self.state.lock().unwrap();
        s.check_alive()?;
        let exists = s.files.contains_key(path);
        if create_new && exists {
            return Err(io::Error::from(io::ErrorKind::AlreadyExists));
        }
        if !create_new && !exists {
            return Err(io::Error::from(io::ErrorKind::NotFound));
        }
        // File creation is modelled as durable at once (the log syncs the directory after it).
        let end = s.files.entry(path.to_path_buf()).or_default().data.len() as u64;
        Ok(Box::new(SimAppend {
            state: self.state.clone(),
            changed: self.changed.clone(),
            path: path.to_path_buf(),
            end,
            torn: false,
        }))
    }
    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        let mut s = self.state.lock().unwrap();
        s.check_alive()?;
        let f = s
            .files
            .get_mut(path)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        // Like `set_len` then `fsync` (`RealIo::truncate`): the whole file is durable after.
        f.data.truncate(len as usize);
        f.unsynced.clear();
        Ok(())
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.state.lock().unwrap();
        s.check_alive()?;
        let f = s
            .files
            .remove(from)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        s.files.insert(to.to_path_buf(), f);
        Ok(())
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut s = self.state.lock().unwrap();
        s.check_alive()?;
        s.files
            .remove(path)
            .map(|_| ())
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }
    fn sync_dir(&self, _dir: &Path) -> io::Result<()> {
        self.state.lock().unwrap().check_alive()
    }
    fn lock_exclusive(&self, path: &Path) -> io::Result<Box<dyn Any + Send>> {
        let mut s = self.state.lock().unwrap();
        s.check_alive()?;
        if !s.locks.insert(path.to_path_buf()) {
            return Err(io::Error::from(io::ErrorKind::WouldBlock));
        }
        s.files.entry(path.to_path_buf()).or_default();
        Ok(Box::new(SimLock {
            state: self.state.clone(),
            path: path.to_path_buf(),
        }))
    }
}

#[cfg(test)]
mod append_end_tests {
    use super::*;

    /// Appends, a positioned write inside the file, appends again: each append lands at the
    /// file's end as the handle keeps it.
    fn appends_land_at_the_end(io: &dyn LogIo, path: &Path, read: impl Fn() -> Vec<u8>) {
        let mut f = io.open_append(path, true).unwrap();
        f.write_all(b"abc").unwrap();
        f.write_all(b"def").unwrap();
        f.write_at(b"XY", 1).unwrap();
        f.write_all(b"g").unwrap();
        drop(f);
        // A handle opened on a file that has bytes starts at their end.
        let mut f = io.open_append(path, false).unwrap();
        f.write_all(b"hi").unwrap();
        f.write_at(b"jk", 8).unwrap();
        f.write_all(b"l").unwrap();
        assert_eq!(
            read(),
            b"aXYdefghjkl",
            "the positioned write at 8 reached one byte past the end"
        );
    }

    #[test]
    fn real_appends_land_at_the_handles_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        appends_land_at_the_end(&RealIo, &path, || std::fs::read(&path).unwrap());
    }

    #[test]
    fn sim_appends_land_at_the_handles_end() {
        let sim = SimIo::new(1);
        let path = Path::new("/sim/f");
        sim.create_dir_all(Path::new("/sim")).unwrap();
        appends_land_at_the_end(&sim, path, || sim.file_bytes(path).unwrap());
    }

    #[test]
    #[should_panic(expected = "one writer")]
    fn a_second_writer_is_caught_at_the_next_append() {
        let sim = SimIo::new(1);
        let path = Path::new("/sim/f");
        sim.create_dir_all(Path::new("/sim")).unwrap();
        let mut first = sim.open_append(path, true).unwrap();
        let mut second = sim.open_append(path, false).unwrap();
        second.write_all(b"abc").unwrap();
        let _ = first.write_all(b"def");
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "one writer")]
    fn a_second_real_writer_is_caught_at_the_next_append_in_debug_builds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let mut first = RealIo.open_append(&path, true).unwrap();
        let mut second = RealIo.open_append(&path, false).unwrap();
        second.write_all(b"abc").unwrap();
        let _ = first.write_all(b"def");
    }
}
