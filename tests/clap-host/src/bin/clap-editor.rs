//! `clap-editor PLUGIN.clap OUT.png [SCALE]`: opens the plug-in's editor in an X11 window, as a
//! host embeds it, runs Analyze & Mix on a synthesised song (a sung line over a backing, so the
//! editor shows a suggestion with its reasons, the bands and the meters), and saves what the window
//! shows as a PNG. Needs an X server (`scripts/editor-screenshot.sh` starts Xvfb for it).
//!
//! Also checks what a host relies on: the editor opens at a size, resizes when asked, keeps
//! processing while open and closes without harm.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap_test_host::{Loaded, Transport};
use engine::synth::{backing_track, vocal_line};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    ConfigureWindowAux, ConnectionExt, CreateWindowAux, EventMask, ImageFormat, WindowClass,
};
use x11rb::rust_connection::RustConnection;

const RATE: f64 = 48_000.0;
const TEMPO: f64 = 96.0;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (plugin, out) = match args.as_slice() {
        [p, o, ..] => (PathBuf::from(p), PathBuf::from(o)),
        _ => return Err("usage: clap-editor PLUGIN.clap OUT.png [SCALE] [REFERENCE_SONG]".into()),
    };
    let scale: f64 = args
        .get(2)
        .map_or(Ok(1.0), |s| s.parse())
        .map_err(|e| format!("{e}"))?;
    let (conn, window) = open_window()?;
    let mut p = Loaded::load(&plugin)?;
    // a reference song, measured before the editor opens (the plug-in measures once active)
    if let Some(reference) = args.get(3) {
        p.process(RATE, 64, &[vec![0.0; 64], vec![0.0; 64]], None, &[])?;
        p.choose_reference(Path::new(reference), Duration::from_secs(120))?;
        println!("reference {reference} measured");
    }
    // SAFETY: the window lives until the end of main, after close_editor.
    let (w, h) = unsafe { p.open_editor(window, scale)? };
    println!("editor open at {w}x{h} px (scale {scale})");
    let resize = |p: &mut Loaded, size: (u32, u32)| -> Result<(u32, u32), String> {
        let got = p.resize_editor(size)?;
        conn.configure_window(
            window,
            &ConfigureWindowAux::new().width(got.0).height(got.1),
        )
        .map_err(|e| e.to_string())?;
        conn.flush().map_err(|e| e.to_string())?;
        Ok(got)
    };
    resize(&mut p, (w, h))?;
    let smaller = resize(&mut p, (w * 9 / 10, h * 9 / 10))?;
    println!("resized to {}x{}", smaller.0, smaller.1);
    let (w, h) = resize(&mut p, (w, h))?;
    analyze_and_mix_watched(&mut p)?;
    capture(&conn, window, (w, h), &out)?;

    p.close_editor();
    // baseview ends the editor's X11 thread asynchronously after destroy; a host that unloaded
    // the library at that very moment would pull the code from under it (CI saw a crash at exit
    // once, after "ok"), so this host lets the editor finish closing first
    std::thread::sleep(std::time::Duration::from_millis(500));
    conn.destroy_window(window).map_err(|e| e.to_string())?;
    conn.flush().map_err(|e| e.to_string())?;
    // the instance goes, then the library: anything that crashes there shows as no "ok"
    drop(p);
    println!("ok");
    Ok(())
}

/// A mapped top-level window for the editor to embed in.
fn open_window() -> Result<(RustConnection, u32), String> {
    let (conn, screen_num) =
        x11rb::connect(None).map_err(|e| format!("no X server (set DISPLAY, or run Xvfb): {e}"))?;
    let screen = &conn.setup().roots[screen_num];
    let window = conn.generate_id().map_err(|e| e.to_string())?;
    conn.create_window(
        screen.root_depth,
        window,
        screen.root,
        0,
        0,
        100,
        100,
        0,
        WindowClass::INPUT_OUTPUT,
        screen.root_visual,
        &CreateWindowAux::new()
            .background_pixel(screen.black_pixel)
            .event_mask(EventMask::STRUCTURE_NOTIFY),
    )
    .map_err(|e| e.to_string())?;
    conn.map_window(window).map_err(|e| e.to_string())?;
    conn.flush().map_err(|e| e.to_string())?;
    Ok((conn, window))
}

/// Analyze & Mix on a synthesised song with the editor open, then 3 s more in real time while
/// the editor draws the result and its meters; the output must stay finite.
fn analyze_and_mix_watched(p: &mut Loaded) -> Result<(), String> {
    let seconds = 14.0;
    let vocal = vocal_line(RATE as f32, seconds, 0.5, 11);
    let backing = backing_track(RATE as f32, seconds, TEMPO as f32, 0.6, 12);
    let trigger = p
        .params()
        .iter()
        .find(|q| q.name == "Analyze & Mix")
        .map(|q| q.id)
        .ok_or("no Analyze & Mix parameter")?;
    let playing = Some(Transport {
        playing: true,
        tempo: TEMPO,
    });
    let mut stream = p.stream(RATE, 256)?;
    let piece = 4800;
    let play = |stream: &mut clap_test_host::Stream, at: usize, set: &[_]| {
        let at = at % (vocal.len() - piece);
        let v = &vocal[at..at + piece];
        let b = [&backing[0][at..at + piece], &backing[1][at..at + piece]];
        stream.run([v, v], Some(b), set, playing)
    };
    for (i, at) in (0..vocal.len() - piece).step_by(piece).enumerate() {
        let set: &[_] = if i == 0 { &[(trigger, 1.0)] } else { &[] };
        play(&mut stream, at, set)?;
        std::thread::sleep(Duration::from_millis(4));
    }
    let started = Instant::now();
    let mut k = 0;
    while stream.output.is_empty() {
        if started.elapsed() > Duration::from_secs(120) {
            return Err("no suggestion after 2 minutes".into());
        }
        let set: &[_] = if k == 0 { &[(trigger, 0.0)] } else { &[] };
        play(&mut stream, k * piece, set)?;
        k += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        let out = play(&mut stream, k * piece, &[])?;
        if !out.iter().flatten().all(|x| x.is_finite()) {
            return Err("the output is not finite with the editor open".into());
        }
        k += 1;
        std::thread::sleep(Duration::from_secs_f64(piece as f64 / RATE));
    }
    Ok(())
}

/// Saves what `window` shows as a PNG at `out`; fails when it is nearly one colour (the editor
/// did not draw).
fn capture(
    conn: &RustConnection,
    window: u32,
    (w, h): (u32, u32),
    out: &Path,
) -> Result<(), String> {
    let image = conn
        .get_image(ImageFormat::Z_PIXMAP, window, 0, 0, w as u16, h as u16, !0)
        .map_err(|e| e.to_string())?
        .reply()
        .map_err(|e| format!("cannot read the window: {e}"))?;
    if image.depth != 24 && image.depth != 32 {
        return Err(format!(
            "a {}-bit screen; the capture reads 24-bit",
            image.depth
        ));
    }
    // 32 bits per pixel, blue green red x
    let rgb: Vec<u8> = image
        .data
        .chunks_exact(4)
        .flat_map(|px| [px[2], px[1], px[0]])
        .collect();
    let distinct = rgb
        .chunks_exact(3)
        .map(|c| u32::from_be_bytes([0, c[0], c[1], c[2]]))
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if distinct < 16 {
        return Err(format!(
            "the window shows {distinct} colours: the editor did not draw"
        ));
    }
    let file = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut wr| wr.write_image_data(&rgb))
        .map_err(|e| format!("{}: {e}", out.display()))?;
    println!("{} written ({w}x{h}, {distinct} colours)", out.display());
    Ok(())
}
