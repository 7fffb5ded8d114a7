//! A seeded mutation fuzzer for stable Rust (the nightly toolchain `cargo fuzz` needs is not
//! reachable here): each target draws its inputs from a deterministic generator, so a failure is
//! reproduced by its seed and iteration alone, and runs for a fixed time budget.
//!
//! - `AUTOMIX_FUZZ_SECONDS`: each target's budget (default 20 s; CI runs the default, a developer
//!   hunting bugs runs an hour: `AUTOMIX_FUZZ_SECONDS=3600 cargo test --release --test fuzz`).
//! - `AUTOMIX_FUZZ_SEED`: the run's seed (default: a new one from the clock, printed, so every CI
//!   run explores new inputs and any failure says how to replay it); with
//!   `AUTOMIX_FUZZ_ITERATION`, only that case of the run.
//!
//! A case fails when it panics, when its check returns an error (a non-finite output, a value out
//! of range, an unhelpful error message), when it takes longer than its time limit, or when it
//! allocates more than its memory limit (counted by [`CountingAlloc`], which the target's test
//! binary installs). A case that runs past four times its time limit is taken as a hang: the
//! watchdog prints how to replay it and aborts the binary. Failing inputs are written to
//! `target/fuzz-failures/`, and each becomes a regression test (see `regressions`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Debug;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// SplitMix64: small, fast, and the same on every machine.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A block length from 0 to `max`, small ones (the awkward cases) as often as large ones.
    pub fn block_len(&mut self, max: usize) -> usize {
        match self.below(4) {
            0 => self.below(4),
            1 => self.below(64),
            2 => self.below(max + 1),
            _ => *self
                .pick(&[32, 64, 128, 256, 512, 1024, 2048, 4096, 8192])
                .min(&max),
        }
    }

    /// A sample value that tests the edges: ordinary audio mostly, and NaN, ±∞, subnormals,
    /// ±1e30, full scale.
    pub fn nasty_sample(&mut self) -> f32 {
        match self.below(12) {
            0 => f32::NAN,
            1 => f32::INFINITY,
            2 => f32::NEG_INFINITY,
            3 => f32::MIN_POSITIVE * self.unit() as f32, // subnormal
            4 => 1e30 * if self.chance(0.5) { 1.0 } else { -1.0 },
            5 => 1.0,
            6 => -1.0,
            _ => self.range(-1.0, 1.0) as f32,
        }
    }
}

/// Values that break parsers when they stand in a length, a count or a rate.
const INTERESTING_U32: [u32; 12] = [
    0,
    1,
    2,
    0x7F,
    0xFF,
    0x7FFF,
    0xFFFF,
    44_100,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFE,
    0xFFFF_FFFF,
];

/// One to eight random byte-level changes of `input`: flipped bits, bytes and 16/32-bit fields set
/// to edge values (a header that lies), chunks removed, duplicated or inserted, and truncation.
pub fn mutate(input: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = input.to_vec();
    for _ in 0..1 + rng.below(8) {
        // headers live near the start: aim there half of the time
        let len = b.len().max(1);
        let at = if rng.chance(0.5) {
            rng.below(len.min(64))
        } else {
            rng.below(len)
        };
        match rng.below(9) {
            0 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] ^= 1 << rng.below(8);
            }
            1 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] = *rng.pick(&[0u8, 0xFF, 0x7F, 0x80, 1]);
            }
            2 if b.len() >= 4 => {
                let v = *rng.pick(&INTERESTING_U32);
                let bytes = if rng.chance(0.5) {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                };
                let at = at.min(b.len() - 4);
                b[at..at + 4].copy_from_slice(&bytes);
            }
            3 if b.len() >= 2 => {
                let v = *rng.pick(&INTERESTING_U32) as u16;
                let at = at.min(b.len() - 2);
                b[at..at + 2].copy_from_slice(&v.to_le_bytes());
            }
            4 if !b.is_empty() => {
                let at = at.min(b.len() - 1);
                let n = (1 + rng.below(256)).min(b.len() - at);
                b.drain(at..at + n);
            }
            5 if !b.is_empty() => {
                let at = at.min(b.len() - 1);
                let n = (1 + rng.below(512)).min(b.len() - at);
                let chunk = b[at..at + n].to_vec();
                let to = rng.below(b.len() + 1);
                b.splice(to..to, chunk);
            }
            6 => {
                let n = 1 + rng.below(64);
                let to = at.min(b.len());
                let junk: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                b.splice(to..to, junk);
            }
            7 => b.truncate(rng.below(b.len() + 1)),
            _ => {
                // random bytes over a stretch
                for _ in 0..1 + rng.below(16) {
                    if !b.is_empty() {
                        let i = rng.below(b.len());
                        b[i] = rng.next_u64() as u8;
                    }
                }
            }
        }
    }
    b
}

/// Counts the bytes each thread has allocated and not freed, and the most it held, so a fuzz
/// case can be held to a memory limit. A test binary installs it:
/// `#[global_allocator] static ALLOC: CountingAlloc = CountingAlloc;`
pub struct CountingAlloc;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // `try_with`: a thread being torn down has no locals left; its frees go uncounted
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| {
            if now > peak.get() {
                peak.set(now);
            }
        });
    });
}

// SAFETY: every call goes straight to the system allocator; the counting touches only
// const-initialised thread locals, which never allocate.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// The most this thread asked for above what it held when the closure began, in bytes (0
/// unless the binary installed [`CountingAlloc`]).
pub fn peak_allocation<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let r = f();
    let peak = PEAK.with(Cell::get);
    (r, (peak - base).max(0) as usize)
}

/// The process's peak resident memory (VmHWM), bytes; `reset` first sets the peak to what is
/// resident now (Linux's `clear_refs` 5). `None` where /proc does not say.
pub fn resident_peak(reset: bool) -> Option<usize> {
    if reset {
        std::fs::write("/proc/self/clear_refs", "5").ok()?;
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb << 10)
}

/// One fuzz target's limits.
pub struct Target {
    pub name: &'static str,
    /// A case slower than this fails; four times this, and the watchdog aborts.
    pub time_limit: Duration,
    /// A case that allocates more than this (beyond what it started with) fails.
    pub memory_limit: usize,
}

/// What a run did.
#[derive(Debug)]
pub struct Outcome {
    pub iterations: u64,
    pub failures: Vec<String>,
}

pub fn budget() -> Duration {
    let secs = std::env::var("AUTOMIX_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(20.0);
    Duration::from_secs_f64(secs)
}

fn run_seed() -> u64 {
    std::env::var("AUTOMIX_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        })
}

/// The generator of case `iteration` of a run seeded `seed`: a replay needs only these two.
pub fn case_rng(seed: u64, iteration: u64) -> Rng {
    let mut r = Rng::new(seed ^ iteration.wrapping_mul(0xD1B5_4A32_D192_ED03));
    r.next_u64();
    r
}

pub fn failures_dir() -> PathBuf {
    crate::workspace().join("target/fuzz-failures")
}

/// A case's input written to [`failures_dir`] for a replay or a regression test; its file.
fn save_input(target: &Target, seed: u64, i: u64, bytes: Option<Vec<u8>>) -> Option<PathBuf> {
    let dir = failures_dir();
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join(format!("{}-{seed}-{i}.bin", target.name));
    std::fs::write(&file, bytes?).ok().map(|()| file)
}

/// What is wrong with a case that ran: a panic, the check's complaint, too long, too much memory.
fn judge(
    target: &Target,
    result: std::thread::Result<Result<(), String>>,
    took: Duration,
    held: usize,
    asked: usize,
) -> Option<String> {
    match result {
        Err(panic) => Some(format!("panicked: {}", panic_text(&panic))),
        Ok(Err(e)) => Some(e),
        Ok(Ok(())) if took > target.time_limit => Some(format!(
            "took {:.2} s (limit {:.2} s)",
            took.as_secs_f64(),
            target.time_limit.as_secs_f64()
        )),
        Ok(Ok(())) if held > target.memory_limit => Some(format!(
            "held {} MB (limit {} MB; asked for {} MB)",
            held >> 20,
            target.memory_limit >> 20,
            asked >> 20
        )),
        Ok(Ok(())) => None,
    }
}

/// Runs `target` for the budget: `make` draws a case from its generator, `check` runs it and
/// says what is wrong with the result, if anything; `bytes` gives a failing case's input as a file
/// for a regression test. Panics at the end listing every failure with its replay.
pub fn run<I: Debug>(
    target: &Target,
    mut make: impl FnMut(&mut Rng) -> I,
    mut check: impl FnMut(&I) -> Result<(), String>,
    bytes: impl Fn(&I) -> Option<Vec<u8>>,
) -> Outcome {
    let seed = run_seed();
    let budget = budget();
    eprintln!(
        "fuzz {}: seed {seed}, {:.0} s (replay: AUTOMIX_FUZZ_SEED={seed})",
        target.name,
        budget.as_secs_f64()
    );
    quiet_panics();
    let watch = Watchdog::start(target.name, seed, target.time_limit * 4);
    let started = Instant::now();
    let mut outcome = Outcome {
        iterations: 0,
        failures: Vec::new(),
    };
    // AUTOMIX_FUZZ_ITERATION: replay that one case of the seed's run
    let only: Option<u64> = std::env::var("AUTOMIX_FUZZ_ITERATION")
        .ok()
        .and_then(|s| s.parse().ok());
    // the budget is a floor on effort too: at least a few cases even with a budget of 0
    while only.is_some_and(|i| outcome.iterations <= i)
        || only.is_none() && (started.elapsed() < budget || outcome.iterations < 8)
    {
        let i = outcome.iterations;
        if only.is_some_and(|o| o != i) {
            outcome.iterations += 1;
            continue;
        }
        let input = make(&mut case_rng(seed, i));
        // a replay (of a hang, perhaps): the input goes to disk before it runs
        if only.is_some()
            && let Some(file) = save_input(target, seed, i, bytes(&input))
        {
            eprintln!("replaying {}", file.display());
        }
        watch.enter(i);
        let resident_before = resident_peak(true);
        let t0 = Instant::now();
        let (result, asked) = peak_allocation(|| catch_unwind(AssertUnwindSafe(|| check(&input))));
        let took = t0.elapsed();
        watch.leave();
        // What the case asked for is not what it used: symphonia reserves buffers as long as a
        // header says (zeroed, so never touched when the file is shorter). The limit holds the
        // memory the case made resident (the process's peak since the case began, which a
        // target running beside it in the same binary can only raise); where /proc cannot say,
        // what it asked for.
        let held = match (resident_before, resident_peak(false)) {
            (Some(before), Some(after)) => after.saturating_sub(before),
            _ => asked,
        };
        if let Some(problem) = judge(target, result, took, held, asked) {
            let mut line = format!(
                "{} iteration {i} (AUTOMIX_FUZZ_SEED={seed}): {problem}",
                target.name
            );
            let bytes = bytes(&input);
            if bytes.is_none() {
                let shown = format!("{input:?}");
                let cut = shown
                    .char_indices()
                    .nth(300)
                    .map_or(shown.len(), |(i, _)| i);
                line.push_str(&format!(" — input {}…", &shown[..cut]));
            } else if let Some(file) = save_input(target, seed, i, bytes) {
                line.push_str(&format!(" — input in {}", file.display()));
            }
            eprintln!("{line}");
            outcome.failures.push(line);
            if outcome.failures.len() >= 10 {
                break;
            }
        }
        outcome.iterations += 1;
    }
    drop(watch);
    eprintln!(
        "fuzz {}: {} iterations in {:.1} s, {} failures",
        target.name,
        outcome.iterations,
        started.elapsed().as_secs_f64(),
        outcome.failures.len()
    );
    outcome
}

/// Panics listing the failures, if any.
pub fn assert_clean(outcome: &Outcome) {
    assert!(
        outcome.failures.is_empty(),
        "{} failing cases:\n{}",
        outcome.failures.len(),
        outcome.failures.join("\n")
    );
}

/// A caught panic is a finding, reported once with its replay: the default hook's backtrace
/// for each of them would bury the report.
fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let at = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let what = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            eprintln!("panic{at}: {what}");
        }));
    });
}

pub fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

/// Aborts the process, saying how to replay, when one case runs far past its limit: a hang
/// would otherwise hold the test suite until CI's own timeout, saying nothing.
struct Watchdog {
    /// The case running now, and since when.
    case: Arc<Mutex<Option<(u64, Instant)>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    fn start(name: &'static str, seed: u64, limit: Duration) -> Watchdog {
        let case = Arc::new(Mutex::new(None::<(u64, Instant)>));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, halt) = (case.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !halt.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
                let case = *s.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((i, since)) = case
                    && since.elapsed() > limit
                {
                    eprintln!(
                        "fuzz {name}: iteration {i} has run {:.0} s, past {:.0} s: a hang. Replay: AUTOMIX_FUZZ_SEED={seed}, iteration {i}",
                        since.elapsed().as_secs_f64(),
                        limit.as_secs_f64()
                    );
                    std::process::abort();
                }
            }
        });
        Watchdog {
            case,
            stop,
            thread: Some(thread),
        }
    }

    fn enter(&self, i: u64) {
        *self.case.lock().unwrap_or_else(|e| e.into_inner()) = Some((i, Instant::now()));
    }

    fn leave(&self) {
        *self.case.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The inputs that once failed a target, kept in `tests/fuzz-regressions/<target>/` (committed:
/// made by the fuzzer, not taken from any recording).
pub fn regressions(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = crate::workspace()
        .join("tests/fuzz-regressions")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| {
                    let p = e.path();
                    let name = p.file_name()?.to_string_lossy().into_owned();
                    Some((name, std::fs::read(&p).ok()?))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}
