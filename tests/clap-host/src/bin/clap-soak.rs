//! `clap-soak PLUGIN.clap [SECONDS_OF_AUDIO] [SEED]`: a long session in a host that misbehaves
//! in every allowed way, as fast as the plug-in runs. Per segment (2–20 s of audio): an
//! activation at 44.1, 48, 96 or 192 kHz with a random maximum block; blocks of 1 to that
//! maximum, sizes changing at random; every parameter automated to a random value each block; the
//! sidechain stereo, mono, silent or absent, changing every second or so; Analyze & Mix pressed
//! and released at random (so presses land during analyses, and instances close during them);
//! resets, state saves and loads mid-stream; the editor opened and closed (when an X display
//! is at hand); and now and then the instance destroyed and a new one made.
//!
//! Checks every block's output is finite and below +24 dBFS for a vocal at −40 dBFS peak (the
//! chain's boosts at their limits add up to well over 60 dB; at −40 dBFS nothing short of a
//! runaway reaches +24), that a destroyed instance's threads end, and prints the figures: audio
//! hours, blocks, parameter changes, passes, suggestions applied, state round trips, editor
//! openings, resident memory after the first minute and at the end. Run with the plug-in built
//! with nice-plug's `assert_process_allocs`, an allocation in `process()` aborts it.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap_test_host::{ClapId, Loaded, Param, Side, Stream, Transport};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Resident anonymous memory (RssAnon: heap, stacks, everything allocated), bytes, after the
/// allocator has given back what it holds free (see [`fixed_malloc_thresholds`]). Not VmRSS: that
/// counts the plug-in's code too, whose pages become resident as code first runs (an analysis
/// after the first minute touched 40 MB of the debug build's code), shared with the file and
/// bounded by its size, never a leak.
fn resident() -> usize {
    // SAFETY: malloc_trim only releases free memory; nothing else runs on this thread meanwhile.
    unsafe { libc::malloc_trim(0) };
    status_kb("RssAnon:") << 10
}

/// A `/proc/self/status` figure in kB (0 if absent).
fn status_kb(key: &str) -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let l = s.lines().find(|l| l.starts_with(key))?;
            l.split_whitespace().nth(1)?.parse::<usize>().ok()
        })
        .unwrap_or(0)
}

/// glibc raises its mmap threshold (to 32 MB) each time a large block is freed, and its trim
/// threshold with it (to 64 MB): after an analysis frees its buffers, later allocations come from
/// the worker's arena instead of mmap, and what is freed at the arena's top stays resident, up to
/// 64 MB an arena, which even malloc_trim leaves (heaptrack of such a session: 2.8 MB live at the
/// end, 35 MB resident in one arena). Fixed thresholds, as a host may set them, turn that off, so
/// resident memory follows what the plug-in holds.
fn fixed_malloc_thresholds() {
    // SAFETY: mallopt only changes the allocator's policy; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 10);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 20);
    }
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

/// An X11 window to embed the editor in, if there is a display.
struct Window {
    conn: x11rb::rust_connection::RustConnection,
    id: u32,
}

fn window() -> Option<Window> {
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{ConnectionExt, CreateWindowAux, WindowClass};
    let (conn, screen_num) = x11rb::connect(None).ok()?;
    let screen = conn.setup().roots[screen_num].clone();
    let id = conn.generate_id().ok()?;
    conn.create_window(
        screen.root_depth,
        id,
        screen.root,
        0,
        0,
        800,
        600,
        0,
        WindowClass::INPUT_OUTPUT,
        screen.root_visual,
        &CreateWindowAux::new(),
    )
    .ok()?;
    conn.map_window(id).ok()?;
    conn.flush().ok()?;
    Some(Window { conn, id })
}

#[derive(Default)]
struct Figures {
    audio_seconds: f64,
    blocks: u64,
    param_changes: u64,
    presses: u64,
    applied: u64,
    state_round_trips: u64,
    activations: u64,
    resets: u64,
    editor_openings: u64,
    instances: u64,
    peak_dbfs: f64,
}

const INPUT_PEAK: f32 = 0.01; // −40 dBFS
const OUTPUT_LIMIT: f32 = 15.85; // +24 dBFS

fn main() -> Result<(), String> {
    let (plugin, target, seed) = args()?;
    fixed_malloc_thresholds();
    let win = window();
    println!(
        "soak: {target:.0} s of audio, seed {seed}, editor {}",
        if win.is_some() {
            "on"
        } else {
            "off (no X display)"
        }
    );
    if let (Some(w), Ok(n)) = (&win, std::env::var("SOAK_EDITOR_ONLY")) {
        let n: usize = n.parse().map_err(|e| format!("{e}"))?;
        return editor_only(&plugin, w, n);
    }
    let threads_before = threads();
    let started = Instant::now();
    let mut soak = Soak {
        f: Figures {
            peak_dbfs: f64::NEG_INFINITY,
            ..Default::default()
        },
        rng: Rng(seed),
        win: win.as_ref(),
        target,
        phase: 0.0,
        warm_resident: None,
        pressed: false,
        release_at: 0.0,
    };
    while soak.f.audio_seconds < target {
        soak.instance(&plugin)?;
    }
    finish(&soak, threads_before, started)
}

fn args() -> Result<(PathBuf, f64, u64), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let plugin = PathBuf::from(
        args.first()
            .ok_or("usage: clap-soak PLUGIN.clap [SECONDS] [SEED]")?,
    );
    let target: f64 = args
        .get(1)
        .map_or(Ok(600.0), |s| s.parse())
        .map_err(|e| format!("{e}"))?;
    let seed: u64 = args
        .get(2)
        .map_or(Ok(1), |s| s.parse())
        .map_err(|e| format!("{e}"))?;
    Ok((plugin, target, seed))
}

/// The editor alone, opened and closed `n` times: resident memory every n/5.
fn editor_only(plugin: &Path, w: &Window, n: usize) -> Result<(), String> {
    let mut p = Loaded::load(plugin)?;
    for i in 0..=n {
        if i % (n / 5).max(1) == 0 {
            println!(
                "{i} openings: {:.1} MB",
                resident() as f64 / (1 << 20) as f64
            );
        }
        // SAFETY: the window outlives the editor, which closes right after.
        unsafe { p.open_editor(w.id, 1.0)? };
        let _ = x11rb::connection::Connection::flush(&w.conn);
        std::thread::sleep(std::time::Duration::from_millis(20));
        p.close_editor();
    }
    Ok(())
}

/// The session as it goes: its figures, its dice, the "singer" and the Analyze & Mix button.
struct Soak<'w> {
    f: Figures,
    rng: Rng,
    win: Option<&'w Window>,
    /// Seconds of audio to play in all.
    target: f64,
    /// The singer's oscillator.
    phase: f64,
    warm_resident: Option<usize>,
    pressed: bool,
    release_at: f64,
}

impl Soak<'_> {
    /// A new instance, played for 1 to 5 minutes of audio in segments, then destroyed.
    fn instance(&mut self, plugin: &Path) -> Result<(), String> {
        let mut p = Loaded::load(plugin)?;
        self.f.instances += 1;
        let params = p.params();
        let trigger = params
            .iter()
            .find(|q| q.name == "Analyze & Mix")
            .map(|q| q.id)
            .ok_or("no Analyze & Mix parameter")?;
        self.pressed = false;
        let instance_end = self.f.audio_seconds + 60.0 + 240.0 * self.rng.unit();
        while self.f.audio_seconds < instance_end.min(self.target) {
            self.segment(&mut p, &params, trigger)?;
        }
        Ok(())
    }

    /// One activation at a random rate and maximum block, 2 to 20 s of audio in random blocks.
    fn segment(&mut self, p: &mut Loaded, params: &[Param], trigger: ClapId) -> Result<(), String> {
        let rate = [44_100.0, 48_000.0, 96_000.0, 192_000.0][self.rng.below(4) as usize];
        let max_block = 1 + self.rng.below(4096) as usize;
        let mut s = p.stream(rate, max_block)?;
        self.f.activations += 1;
        let segment_end = self.f.audio_seconds + 2.0 + 18.0 * self.rng.unit();
        let (mut side_mode, mut side_until) = (0, 0.0);
        while self.f.audio_seconds < segment_end.min(self.target) {
            let n = 1 + self.rng.below(max_block as u64) as usize;
            if self.f.audio_seconds >= side_until {
                side_mode = self.rng.below(4);
                side_until = self.f.audio_seconds + 0.5 + self.rng.unit();
            }
            self.block(&mut s, n, rate, side_mode, params, trigger)?;
            self.mid_stream(&mut s, n as f64 / rate)?;
        }
        Ok(())
    }

    /// One block: the singer, the sidechain as `side_mode` says, every parameter moved, the
    /// button pressed or released now and then; the output checked.
    fn block(
        &mut self,
        s: &mut Stream,
        n: usize,
        rate: f64,
        side_mode: u64,
        params: &[Param],
        trigger: ClapId,
    ) -> Result<(), String> {
        let mut main = self.sing(n, rate);
        let backing = [main[1].iter().map(|v| v * 0.7).collect(), main[0].clone()];
        let silent = [vec![0.0f32; n], vec![0.0f32; n]];
        let side = match side_mode {
            0 => Side::Stereo(&backing),
            1 => Side::Mono(&backing[0]),
            2 => Side::Stereo(&silent),
            _ => Side::Absent,
        };
        let set = self.automation(n as f64 / rate, params, trigger);
        let transport = Some(Transport {
            playing: self.rng.below(50) != 0,
            tempo: 60.0 + self.rng.unit() * 120.0,
        });
        let before = s.output.len();
        s.block(&mut main, side, &set, transport)?;
        let applied = s.output[before..]
            .iter()
            .filter(|e| matches!(e, clap_test_host::Sent::End(id) if *id != trigger))
            .count();
        self.f.applied += (applied > 0) as u64;
        s.output.clear();
        let peak = main.iter().flatten().fold(0.0f32, |m, v| {
            if v.is_finite() {
                m.max(v.abs())
            } else {
                f32::INFINITY
            }
        });
        if peak.is_nan() || peak >= OUTPUT_LIMIT {
            return Err(format!(
                "block {} ({n} frames at {rate} Hz): output peak {peak} (limit +24 dBFS)",
                self.f.blocks
            ));
        }
        self.f.peak_dbfs = self.f.peak_dbfs.max(20.0 * (peak as f64).log10());
        self.f.blocks += 1;
        self.f.audio_seconds += n as f64 / rate;
        Ok(())
    }

    /// A "singer" at −40 dBFS: a tone that comes and goes in phrases, on both channels.
    fn sing(&mut self, n: usize, rate: f64) -> [Vec<f32>; 2] {
        let left: Vec<f32> = (0..n)
            .map(|i| {
                self.phase += 220.0 / rate;
                let t = self.f.audio_seconds + i as f64 / rate;
                let env = if (t * 0.5).fract() < 0.8 { 1.0 } else { 0.0 };
                (INPUT_PEAK as f64 * env * (std::f64::consts::TAU * self.phase).sin()) as f32
            })
            .collect();
        [left.clone(), left]
    }

    /// Every parameter but the button to a random value; the button pressed about every 5 s of
    /// audio while off and held for 3 to 30 s (a pass too short, or long enough to mix), so
    /// presses also land during analyses.
    fn automation(
        &mut self,
        seconds: f64,
        params: &[Param],
        trigger: ClapId,
    ) -> Vec<(ClapId, f64)> {
        let mut set: Vec<(ClapId, f64)> = params
            .iter()
            .filter(|q| q.id != trigger)
            .map(|q| (q.id, q.min + self.rng.unit() * (q.max - q.min)))
            .collect();
        let press = !self.pressed && self.rng.unit() < seconds / 5.0;
        let release = self.pressed && self.f.audio_seconds >= self.release_at;
        if press || release {
            self.pressed = press;
            self.release_at = self.f.audio_seconds + 3.0 + 27.0 * self.rng.unit();
            set.push((trigger, if press { 1.0 } else { 0.0 }));
            self.f.presses += press as u64;
        }
        self.f.param_changes += set.len() as u64;
        set
    }

    /// Between blocks, at random: a reset, a state saved and loaded, the editor opened and
    /// closed; and the resident memory once warm.
    fn mid_stream(&mut self, s: &mut Stream, per_second: f64) -> Result<(), String> {
        if self.rng.unit() < per_second / 10.0 {
            s.reset();
            self.f.resets += 1;
        }
        if self.rng.unit() < per_second / 5.0 {
            let state = s.plugin().save_state()?;
            s.plugin().load_state(&state)?;
            self.f.state_round_trips += 1;
        }
        if let Some(w) = self.win
            && self.rng.unit() < per_second / 10.0
        {
            // SAFETY: the window outlives the editor, which closes right after.
            unsafe { s.plugin().open_editor(w.id, 1.0)? };
            let _ = x11rb::connection::Connection::flush(&w.conn);
            s.plugin().close_editor();
            self.f.editor_openings += 1;
        }
        // warm: the first minute played, and the editor's one-off start (fonts, GL: about
        // 100 MB) paid when there is one
        if self.warm_resident.is_none()
            && self.f.audio_seconds >= 60.0
            && (self.win.is_none() || self.f.editor_openings > 0)
        {
            self.warm_resident = Some(resident());
        }
        Ok(())
    }
}

/// After the last instance: its threads gone, the figures printed, the memory judged.
fn finish(soak: &Soak, threads_before: usize, started: Instant) -> Result<(), String> {
    let f = &soak.f;
    // the last instance is gone: its worker (and any editor thread) with it
    let deadline = Instant::now() + std::time::Duration::from_secs(5);
    while threads() > threads_before && Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let left = threads().saturating_sub(threads_before);
    let end_resident = resident();
    let warm = soak.warm_resident.unwrap_or(end_resident);
    let mb = |b: usize| b as f64 / (1 << 20) as f64;
    println!(
        "audio {:.3} h in {:.0} s ({:.0}x real time); {} blocks, {} parameter changes, {} activations, {} resets",
        f.audio_seconds / 3600.0,
        started.elapsed().as_secs_f64(),
        f.audio_seconds / started.elapsed().as_secs_f64(),
        f.blocks,
        f.param_changes,
        f.activations,
        f.resets
    );
    println!(
        "{} Analyze & Mix presses, {} suggestions applied, {} state round trips, {} editor openings, {} instances",
        f.presses, f.applied, f.state_round_trips, f.editor_openings, f.instances
    );
    println!(
        "output peak {:.1} dBFS (input −40 dBFS); resident anonymous memory {:.1} MB after the first minute, {:.1} MB at the end (everything resident, code included: {:.1} MB); {left} threads left",
        f.peak_dbfs,
        mb(warm),
        mb(end_resident),
        status_kb("VmRSS:") as f64 / 1024.0
    );
    if left > 0 {
        return Err(format!("{left} threads outlived the instances"));
    }
    // Flat: what the plug-in holds at the end (its instances gone) is what it held after the
    // first minute, within 16 MB, however often the editor opened. (Measured as VmRSS with
    // glibc's dynamic thresholds this looked like 0.25 MB an editor opening and 20-50 MB a
    // session: code pages and arena retention, not the plug-in's; see `resident`.)
    let allowed = 16 << 20;
    println!(
        "memory growth {:.1} MB (allowed {:.1} MB)",
        mb(end_resident.saturating_sub(warm)),
        mb(allowed)
    );
    if end_resident > warm + allowed {
        return Err(format!(
            "resident memory grew from {:.1} MB to {:.1} MB",
            mb(warm),
            mb(end_resident)
        ));
    }
    println!("ok");
    Ok(())
}
